/* cli_render.h - placeholder, written with the CLI */
