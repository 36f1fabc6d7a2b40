/* diag.c -- see diag.h. */
#include "diag.h"

const char *espi_severity_name(espi_severity s)
{
    switch (s) {
    case ESPI_SEV_ERROR: return "error";
    case ESPI_SEV_WARNING: return "warning";
    default: return "info";
    }
}
