# gen.mk - the sources generated at build time, shared by the Makefile and
# tests/fuzz/fuzz.mk so that both build them the same way, once.
#
# Set GEN_O (the folder the generated C goes to) before including.

MIGRATIONS    := $(sort $(wildcard schema/*.sql))
PG_MIGRATIONS := $(sort $(wildcard schema/postgres/*.sql))
ASSETS     := $(sort $(wildcard assets/*.css assets/*.js assets/*.svg))

# The migrations are compiled into the binary: one string per schema/ file,
# and per schema/postgres/ file.
$(GEN_O)/schema.c: $(MIGRATIONS) $(PG_MIGRATIONS) src/tools/embed_schema.sh
	@mkdir -p $(dir $@)
	@sh src/tools/embed_schema.sh $(MIGRATIONS) -- $(PG_MIGRATIONS) > $@.tmp && mv $@.tmp $@

# The web assets too: one byte array per assets/ file, and a content hash
# that goes into their URLs.
$(GEN_O)/assets.c: $(ASSETS) src/tools/embed_assets.sh
	@mkdir -p $(dir $@)
	@sh src/tools/embed_assets.sh $(ASSETS) > $@.tmp && mv $@.tmp $@
