# mk/docs.mk — the API reference as man3 pages, generated at build time from
# the public headers' comments (scripts/gen-man3.pl: one page per function,
# one per header, and libgraphjob(3)), installed by `make install` into
# $(mandir)/man3 and shipped in libgraphjob-dev.  The headers are the same
# list as the installed ones (graphjobinclude_HEADERS), so a new header is
# documented by adding it there.  Needs perl (there wherever automake is;
# Debian's perl-base is essential); without it no pages are made.
GJ_MAN3_INPUT = include/graphjob.h $(graphjobinclude_HEADERS)
GJ_MAN3_LIST = man3/pages.list
EXTRA_DIST += scripts/gen-man3.pl

if HAVE_PERL
$(GJ_MAN3_LIST): $(GJ_MAN3_INPUT) $(srcdir)/scripts/gen-man3.pl
	$(AM_V_GEN)rm -rf man3 && \
	$(PERL) $(srcdir)/scripts/gen-man3.pl --out man3 --version $(VERSION) \
		--srcdir $(srcdir) $(GJ_MAN3_INPUT)

all-local: $(GJ_MAN3_LIST)

install-data-local: $(GJ_MAN3_LIST)
	$(MKDIR_P) '$(DESTDIR)$(mandir)/man3'
	while read page; do \
		$(INSTALL_DATA) "man3/$$page" '$(DESTDIR)$(mandir)/man3/'"$$page" || exit 1; \
	done < $(GJ_MAN3_LIST)

uninstall-local:
	if test -f $(GJ_MAN3_LIST); then \
		while read page; do rm -f '$(DESTDIR)$(mandir)/man3/'"$$page"; done < $(GJ_MAN3_LIST); \
	fi
endif

clean-local:
	rm -rf man3
EXTRA_DIST += scripts/update-symbols.sh
