/*
 * libFuzzer target for the command line: the input is split at NUL bytes
 * into arguments (at most 16) for options_parse, which also parses both
 * addresses.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options	 o;
	char		*copy, *argv[18], err[512];
	int		 argc = 0;
	size_t		 i, start = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "starttls-relay";
	for (i = 0; i <= size && argc < 17; i++)
		if (copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	options_parse(argc, argv, &o, err, sizeof(err));
	free(copy);
	return 0;
}
