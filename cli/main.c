/* main.c -- espigate command dispatcher (placeholder until the CLI lands). */
#include <stdio.h>
int main(void) { puts("espigate " ESPIGATE_VERSION); return 0; }
