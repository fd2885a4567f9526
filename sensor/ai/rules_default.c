// SPDX-License-Identifier: MIT
/*
 * rules_default.c - the built-in rules: rules/default.yaml embedded in
 * .rodata with .incbin (the path is relative to the repository top, where
 * the Makefile runs the compiler; the Makefile lists the YAML file as a
 * prerequisite of this object), followed by a NUL byte.
 *
 * Kept apart from rules.c so that rules.o does not need the embedded file.
 */
#include "ai/rules.h"

__asm__(".pushsection .rodata\n"
	".globl oisp_rules_default_yaml\n"
	".hidden oisp_rules_default_yaml\n"
	".type oisp_rules_default_yaml, %object\n"
	"oisp_rules_default_yaml:\n"
	".incbin \"rules/default.yaml\"\n"
	".byte 0\n"
	".size oisp_rules_default_yaml, . - oisp_rules_default_yaml\n"
	".popsection\n");

extern const char oisp_rules_default_yaml[]
	__attribute__((visibility("hidden")));

const char *rules__default_yaml(void)
{
	return oisp_rules_default_yaml;
}

int rules__load_default(struct rules **out, char *err, size_t errlen)
{
	return rules__load_string(out, oisp_rules_default_yaml,
				  "<built-in rules>", err, errlen);
}
