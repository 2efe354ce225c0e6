/*
 * cli_catalogue_admin.h - `kindling school` and `kindling practice` with
 * the verbs that change what exists (cli_catalogue_admin.c):
 *
 *   kindling school add SLUG NAME [--district TEXT] [--data DIR]
 *   kindling school set SLUG [--name NAME] [--district TEXT] [--data DIR]
 *   kindling practice add SLUG NAME [--description TEXT] [--data DIR]
 *   kindling practice rename SLUG NAME [--data DIR]
 *   kindling practice describe SLUG TEXT [--data DIR]
 *   kindling practice retire|unretire SLUG [--data DIR]
 *   kindling practice merge FROM INTO [--dry-run] [--data DIR]
 *
 * "add" (and anything unknown) goes on to cli_school / cli_practice
 * (cli_admin.c), so main.c dispatches "school" and "practice" here.
 * Private to src/cli/ and main.c; the exit status as cli.h says.
 */
#ifndef KINDLING_CLI_CATALOGUE_ADMIN_H
#define KINDLING_CLI_CATALOGUE_ADMIN_H

int cli_school_admin(int argc, char **argv);
int cli_practice_admin(int argc, char **argv);

/* The usage lines, for main.c's list of commands. */
#define CLI_SCHOOL_USAGE                                                        \
	"school add SLUG NAME [--district TEXT] [--data DIR]\n"                   \
	"  kindling school set SLUG [--name NAME] [--district TEXT] [--data DIR]"
#define CLI_PRACTICE_USAGE                                                      \
	"practice add SLUG NAME [--description TEXT] [--data DIR]\n"              \
	"  kindling practice rename SLUG NAME [--data DIR]\n"                     \
	"  kindling practice describe SLUG TEXT [--data DIR]\n"                   \
	"  kindling practice retire|unretire SLUG [--data DIR]\n"                 \
	"  kindling practice merge FROM INTO [--dry-run] [--data DIR]"

#endif
