/* cmd_render.h -- `espigate render`: a feed as an HTML page or CSV. */
#ifndef CMD_RENDER_H
#define CMD_RENDER_H

/* Returns a sysexits-style status (err.h EG_EXIT_*). */
int cmd_render(int argc, char **argv);

#endif
