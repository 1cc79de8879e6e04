#!/usr/bin/perl
# gen-man3.pl — the API reference as man(7) pages, from the public headers'
# comments (run at build time by mk/docs.mk; perl is there wherever
# automake is, and Debian's perl-base is essential).  Only strict and
# warnings are used.
#
#   perl gen-man3.pl --out DIR --version V [--srcdir S] HEADER...
#
# Writes, into DIR:
#   <function>.3        one page per GJ_EXTERN function: NAME (the first
#                       sentence of its comment), SYNOPSIS (the prototype),
#                       DESCRIPTION (the comment before the declaration, or
#                       the group's comment it shares with its neighbours),
#                       THREADS (the header's "Threading:" paragraph), SEE
#                       ALSO;
#   graphjob-<hdr>.3    one page per header: its opening comment, its types
#                       and macros as declared, its functions;
#   libgraphjob.3       the overview (graphjob.h's comment) and every page.
# and DIR/pages.list, the names written (for install and uninstall).
# Warns about a function without any comment (its page then only points to
# its header's); --strict makes that an error (exit 1).
use strict;
use warnings;

my ($out, $version, $srcdir, $strict) = ('man3', '', '.', 0);
my @headers;
while (@ARGV) {
    my $a = shift @ARGV;
    if ($a eq '--out') { $out = shift @ARGV; }
    elsif ($a eq '--version') { $version = shift @ARGV; }
    elsif ($a eq '--srcdir') { $srcdir = shift @ARGV; }
    elsif ($a eq '--strict') { $strict = 1; }
    else { push @headers, $a; }
}
die "usage: gen-man3.pl --out DIR --version V [--srcdir S] HEADER...\n" unless @headers;
mkdir $out unless -d $out;

# roff: escape backslashes and minus signs, protect a leading dot or quote.
sub esc {
    my ($t) = @_;
    utf8::decode($t);
    $t =~ s/\\/\\e/g;
    $t =~ s/-/\\-/g;
    $t =~ s/^([.'])/\\&$1/mg;
    $t =~ s/([^\x00-\x7f])/sprintf("\\[u%04X]", ord($1))/ge;
    return $t;
}

# A comment's text without the /* */ and the leading " * ".
sub comment_text {
    my ($c) = @_;
    $c =~ s{^\s*/\*+}{};
    $c =~ s{\*+/\s*$}{};
    my @lines = split /\n/, $c, -1;
    s/^\s*\* ?// for @lines;
    shift @lines while @lines && $lines[0] =~ /^\s*$/;
    $lines[0] =~ s/^\s+// if @lines;
    pop @lines while @lines && $lines[-1] =~ /^\s*$/;
    return join("\n", @lines);
}

# Prose to roff: blank lines are paragraph breaks, indented blocks (code,
# tables) are kept as they are.
sub prose {
    my ($text) = @_;
    my @out;
    my $literal = 0;
    for my $line (split /\n/, $text) {
        if ($line =~ /^\s*$/) {
            if ($literal) { push @out, '.fi'; $literal = 0; }
            push @out, '.PP';
            next;
        }
        my $code = $line =~ /^(\s{2,}|\t)/ || $line =~ /\s\|\s|^\s*[-+]{4,}/;
        if ($code && !$literal) { push @out, '.nf'; $literal = 1; }
        if (!$code && $literal) { push @out, '.fi'; $literal = 0; }
        push @out, esc($line);
    }
    push @out, '.fi' if $literal;
    return join("\n", @out) . "\n";
}

# A long prototype broken after commas, continuation lines under the '('.
sub wrap_proto {
    my ($p) = @_;
    return $p if length($p) <= 78;
    my $open = index($p, '(');
    my $pad = ' ' x ($open + 1);
    my @parts = split /(?<=,) /, $p;
    my ($line, @lines) = (shift @parts);
    for my $part (@parts) {
        if (length($line) + 1 + length($part) > 78) {
            push @lines, $line;
            $line = $pad . $part;
        } else {
            $line .= " $part";
        }
    }
    push @lines, $line;
    return join("\n", @lines);
}

sub first_sentence {
    my ($text) = @_;
    $text =~ s/\s+/ /g;
    $text =~ s/^\s+//;
    my ($s) = $text =~ /^(.*?[.:;])(?:\s|$)/;
    $s = $text unless defined $s;
    $s =~ s/[.:;]$//;
    $s = substr($s, 0, 117) . '...' if length($s) > 120;
    return $s;
}

my (%pages, @all_functions, @header_pages);
my $overview = '';

sub write_page {
    my ($name, $body) = @_;
    my $path = "$out/$name.3";
    open(my $fh, '>', $path) or die "$path: $!\n";
    print $fh $body;
    close $fh;
    $pages{"$name.3"} = 1;
}

sub th {
    my ($name) = @_;
    return ".TH " . uc(esc($name)) . " 3 \"\" \"libgraphjob $version\" \"libgraphjob Manual\"\n";
}

my $bad = 0;
for my $h (@headers) {
    my $path = -f $h ? $h : "$srcdir/$h";
    open(my $fh, '<', $path) or die "$path: $!\n";
    local $/;
    my $src = <$fh>;
    close $fh;
    (my $incname = $h) =~ s{^.*?include/}{};
    my $base = $incname;
    $base =~ s{^graphjob/}{};
    $base =~ s{\.h$}{};
    my $page = $incname eq 'graphjob.h' ? 'libgraphjob' : "graphjob-$base";

    # Items in order: comments, declarations, typedefs, macros.
    my @items;
    my $s = $src;
    while (length $s) {
        if ($s =~ s{^\s*(/\*.*?\*/)}{}s) {
            push @items, ['comment', $1];
        } elsif ($s =~ s{^\s*(#\s*define[^\n]*(?:\\\n[^\n]*)*)}{}) {
            push @items, ['define', $1];
        } elsif ($s =~ s{^\s*(#[^\n]*)}{}) {
            # other preprocessor lines
        } elsif ($s =~ s{^\s*(GJ_EXTERN\b[^;]*;)}{}s) {
            push @items, ['function', $1];
        } elsif ($s =~ /^\s*typedef\b/) {
            my $depth = 0;
            my $i = 0;
            my $txt = '';
            $s =~ s/^\s*//;
            for ($i = 0; $i < length $s; $i++) {
                my $ch = substr($s, $i, 1);
                $depth++ if $ch eq '{';
                $depth-- if $ch eq '}';
                last if $ch eq ';' && $depth == 0;
            }
            $txt = substr($s, 0, $i + 1);
            $s = substr($s, $i + 1);
            # a comment on the same line as the ';'
            if ($s =~ s{^([ \t]*/\*.*?\*/)}{}) { $txt .= $1; }
            push @items, ['typedef', $txt];
        } elsif ($s =~ s{^\s*(\S[^\n]*)}{}) {
            # GJ_BEGIN_DECLS and the like
        } else {
            last;
        }
    }

    my $intro = '';
    my ($threads, $last_comment, $last_comment_raw, $type_comment, @defs, @functions) = ('', '', '', '');
    my $first_comment = 1;
    for my $it (@items) {
        my ($kind, $text) = @$it;
        if ($kind eq 'comment') {
            my $t = comment_text($text);
            if ($first_comment) {
                $intro = $t;
                $first_comment = 0;
                if ($t =~ /\n?(Threading:.*?)(?:\n\s*\n|\z)/s) { $threads = $1; }
                next;
            }
            # A section banner ("---- Scalars ----") keeps only what follows
            # it, or its title when nothing does.
            if ($t =~ s/^[-=]{2,}\s*([^\n]*?)\s*[-=]{2,}[ \t]*\n?//) {
                my $title = $1;
                $t = "$title." if $t =~ /^\s*$/;
            }
            $last_comment = $t;
            $last_comment_raw = $text;
        } elsif ($kind eq 'function') {
            (my $proto = $text) =~ s/GJ_EXTERN\s+//;
            $proto =~ s/\s+/ /g;
            $proto =~ s/\( /(/g;
            my ($fname) = $proto =~ /(\w+)\s*\(/;
            next unless $fname;
            $last_comment = $type_comment if $last_comment eq '';
            if ($last_comment eq '') {
                print STDERR "gen-man3: warning: $h: $fname has no comment\n" if $strict;
                $bad++;
            }
            push @functions, [$fname, $proto, $last_comment];
            $last_comment_raw = $type_comment = '';
        } elsif ($kind eq 'typedef' || $kind eq 'define') {
            next if $text =~ /^#\s*define\s+GRAPHJOB(_\w+)?_H\s*$/;
            next if $text =~ /^#\s*define\s+GJ_(BEGIN|END)_DECLS/;
            next if $text =~ /^#\s*define\s+GJ_EXTERN/;
            # the comment right before it goes with it (and to a function
            # right after it that has none: a struct and its getter)
            push @defs, ($last_comment_raw ne '' ? "$last_comment_raw\n" : '') . $text;
            $type_comment = $last_comment;
            $last_comment = $last_comment_raw = '';
            next;
        }
    }
    $threads =~ s/\s+/ /g;
    $threads =~ s/^Threading:\s*//;
    $threads = ucfirst($threads);

    # A group: functions that share one comment see each other.
    my %group;
    for my $f (@functions) { push @{$group{$f->[2]}}, $f->[0]; }

    for my $f (@functions) {
        my ($fname, $proto, $doc) = @$f;
        my @see = grep { $_ ne $fname } @{$group{$doc}};
        my $body = th($fname);
        $body .= ".SH NAME\n" . esc($fname) . " \\- " . esc(first_sentence($doc || $fname)) . "\n";
        $body .= ".SH SYNOPSIS\n.nf\n.B #include <graphjob.h>\n.PP\n" . esc(wrap_proto($proto)) . "\n.fi\n";
        $body .= ".PP\nLink with \\fB\\-lgraphjob\\fR (\\fBpkg\\-config \\-\\-cflags \\-\\-libs graphjob\\fR).\n";
        $body .= ".SH DESCRIPTION\n" . prose($doc) if $doc ne '';
        $body .= ".SH THREADS\n" . esc($threads) . "\n" if $threads ne '';
        $body .= ".SH SEE ALSO\n";
        $body .= join(",\n", map { ".BR " . esc($_) . " (3)" } (@see, $page)) . "\n";
        write_page($fname, $body);
        push @all_functions, [$fname, first_sentence($doc || $fname), $page];
    }

    next if $page eq 'libgraphjob' && !@functions && !@defs && do { $overview = $intro; 1 };
    my $title = first_sentence($intro);
    $title =~ s/^libgraphjob\s*[\x{2014}-]*\s*//;
    $title =~ s/^\xe2\x80\x94\s*//;
    my $body = th($page);
    $body .= ".SH NAME\n" . esc($page) . " \\- " . esc($title) . "\n";
    $body .= ".SH SYNOPSIS\n.nf\n.B #include <graphjob.h>\n.fi\n";
    (my $desc = $intro) =~ s/^libgraphjob\s+\S+\s+[^\n]*\n\s*\n?//;
    $body .= ".SH DESCRIPTION\n" . prose($desc);
    if (@defs) {
        $body .= ".SH DEFINITIONS\n.nf\n";
        $body .= esc($_) . "\n\n" for @defs;
        $body .= ".fi\n";
    }
    if (@functions) {
        $body .= ".SH FUNCTIONS\n";
        $body .= ".TP\n.BR " . esc($_->[0]) . " (3)\n" . esc(first_sentence($_->[2] || $_->[0])) . "\n"
            for @functions;
    }
    $body .= ".SH SEE ALSO\n.BR libgraphjob (3)\n";
    write_page($page, $body);
    push @header_pages, [$page, $title];
}

# The overview.
my $body = th('libgraphjob');
$body .= ".SH NAME\nlibgraphjob \\- one job model over Neo4j (Bolt), Gremlin Server, ArangoDB and GraphQL servers\n";
$body .= ".SH SYNOPSIS\n.nf\n.B #include <graphjob.h>\n.fi\n.PP\n"
       . '\fBcc app.c $(pkg\-config \-\-cflags \-\-libs graphjob)\fR' . "\n";
$body .= ".SH DESCRIPTION\n" . prose($overview) if $overview ne '';
$body .= ".SH HEADERS\n";
$body .= ".TP\n.BR " . esc($_->[0]) . " (3)\n" . esc($_->[1]) . "\n" for @header_pages;
$body .= ".SH FUNCTIONS\n";
$body .= ".TP\n.BR " . esc($_->[0]) . " (3)\n" . esc($_->[1]) . "\n"
    for sort { $a->[0] cmp $b->[0] } @all_functions;
$body .= ".SH SEE ALSO\n.BR graphjob (1)\n.PP\nThe guides in /usr/share/doc/libgraphjob\\-dev: "
       . "getting\\-started.md, jobs.md, threading.md, config.md, one page per backend.\n";
write_page('libgraphjob', $body);

open(my $lf, '>', "$out/pages.list") or die "$out/pages.list: $!\n";
print $lf "$_\n" for sort keys %pages;
close $lf;
print STDERR "gen-man3: $bad functions have no comment of their own (--strict lists them)\n"
    if $bad && !$strict;
exit($bad && $strict ? 1 : 0);
