//! HTML pages (e-paper article pages, news sites) → the markdown shape [`blocks`] reads:
//! `#` headings, paragraphs separated by blank lines, hard breaks, image links.
//!
//! The page is tokenized by [html5gum], a WHATWG-conformant HTML tokenizer: script and style
//! are raw text, comments and doctypes are tokens, attribute values are quoted the way
//! browsers quote them (`>` inside a value does not end the tag), character references are
//! decoded. The tokens are rendered in one streaming pass with a bounded stack of open
//! elements instead of a DOM: html5ever's tree builder (behind `scraper`) scans its stack of
//! open elements on every tag and has no depth cap, so nested or unclosed tags cost time
//! quadratic in the page (ARCHITECTURE.md has the figures). The stack here holds at most
//! [`MAX_DEPTH`] elements (deeper ones replace the innermost, as browsers attach them to the
//! deepest allowed ancestor) and an end tag looks at most [`END_TAG_REACH`] elements down
//! for its start tag, so every token costs a bounded amount of work.
//!
//! What the rendering keeps and drops:
//! - `h1`–`h6` become `#` headings; so do `<p>`/`<td>` whose class names a title (`title`,
//!   `headline`, `biaoti`; `pretitle`, `kicker`, `yinti` are kickers at level 3;
//!   `subtitle`, `futi` subtitles at level 2) and Founder e-paper tags (`founder-title`,
//!   `founder-subtitle`, `founder-pretitle`), so a kicker / headline / subtitle stack comes
//!   out as `###` / `#` / `##`, as a converter writes it.
//! - Block elements (`p`, `div`, `li`, `blockquote`, `figcaption`, caption classes, ...) are
//!   paragraphs; `<br>` is a hard break (two `<br>`, or a break followed by an indent of
//!   two `&nbsp;` or one `　`, end the paragraph, as they do on e-paper pages); a table row is one line,
//!   its cells separated by a space; in a table of contents (`nav`, or a box whose class or
//!   id says `toc`, `daodu`, `catalog`, `mulu`) each link and each broken line is an entry.
//! - `img` becomes an image link; its `alt` text becomes a caption line when the image is
//!   not in a `figure` (whose `figcaption` is the caption) and the alt says something.
//! - `head`, `script`, `style`, `noscript`, `template`, `svg`, `math`, form controls,
//!   elements marked `hidden` or `display:none`, and comments are dropped.
//! - Site chrome is dropped, as boilerplate removers (Readability's unlikely candidates,
//!   jusText's link density) drop it: `nav` (unless it is a table of contents), `aside` and
//!   forms outside an article (a form with a page's worth of text stays: ASP.NET wraps pages
//!   in one), and elements whose class, id or role names chrome (`menu`, `breadcrumb`,
//!   `share`, `comments`, `most-popular`, `ad`, `相关`, a box's label like `group-header`,
//!   ...), matched by whole parts of a name (`ad` is not in `header`). Judged when they close,
//!   against counters snapshotted when they opened (so cutting back costs nothing): a box
//!   that is mostly links (≥ 80% of its text; in an article only with three links or more),
//!   a box of links whose lists were cut and little text of its own is left, a box whose
//!   widget was dropped and only its label is left (图集), a breadcrumb trail known by its
//!   label (当前位置：), and a site `footer` longer than a copyright line. A footer (or a
//!   `footer` class: an e-paper page's editor line) ends the article above it.
//! - A kicker set inside a headline (`<strong class="kicker">`) is a heading one level under
//!   it; a `div` whose class is a title heads; a heading in a byline row is a line of text.
//! - Whitespace collapses as in a browser (a line break between two CJK characters
//!   disappears, as CSS segment-break rules have it); `<pre>` keeps its lines.
//! - Text is escaped so that nothing in it reads as markdown (`*`, `#` at a line start, ...).
//!
//! Pure: no I/O, linear in the page.

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};

use crate::parse::text;

/// Most open elements kept; a browser nests no deeper than 512 either.
pub const MAX_DEPTH: usize = 512;
/// How many open elements an end tag looks through for its start tag.
pub const END_TAG_REACH: usize = 64;

/// Converts an HTML page to the markdown shape the rest of the parser reads.
pub fn to_markdown(html: &str) -> String {
    let mut render = Render::default();
    {
        let mut emitter = CallbackEmitter::new(
            |event: CallbackEvent<'_>, _: Span<()>| -> Option<std::convert::Infallible> {
                render.event(event);
                None
            },
        );
        // script, style, textarea, title, ... are raw text until their end tag
        emitter.naively_switch_states(true);
        // reading from a string cannot fail
        let _ = Tokenizer::new_with_emitter(html, emitter).finish();
    }
    render.flush();
    // character references can make characters the page text was cleaned of (`&#8203;`)
    text::normalize_chars(&render.out).0
}

/// What an open element does to the text inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Everything inside is dropped.
    Skip,
    /// A heading of this level.
    Heading(u8),
    /// Preformatted: lines kept.
    Pre,
    /// A table of contents: every link is an entry line.
    Toc,
    /// A figure: its `figcaption` is the caption, not its image's `alt`.
    Figure,
    /// A link in a table of contents: it starts an entry line, which runs on after it
    /// (`<a>标题</a>（详见第2版）`).
    Entry,
    /// A paragraph boundary before and after.
    Block,
    /// A table cell: a space from the cell before.
    Cell,
    /// Text flows through.
    Inline,
}

impl Role {
    fn is_block(self) -> bool {
        !matches!(self, Role::Inline | Role::Cell | Role::Entry)
    }
}

/// One open element.
struct Open {
    /// Tag name, lower case (the tokenizer lower-cases it).
    name: Vec<u8>,
    /// What the implied end tags look for, as a number: a stack walk compares bytes, not names.
    kind: Kind,
    role: Role,
    /// Where the element's output starts and the counters when it opened: an element found
    /// to be chrome when it closes (a list of links, a login form, a widget's label) is cut
    /// back to here.
    mark: Mark,
    /// What is judged when the element closes.
    check: Check,
    /// A link: its text counts as link text.
    link: bool,
    /// An article (`article`, class `article`): a list of links inside it needs more links.
    article: bool,
    /// A byline or meta row (`byline`, `entry-meta`): a heading inside it is a line of text.
    meta: bool,
}

/// The output length and counters at one point: cutting back to it costs nothing.
#[derive(Debug, Clone, Copy, Default)]
struct Mark {
    out: usize,
    counts: Counts,
}

/// What the rendering has written so far, as an element is judged on it when it closes.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    /// Visible characters written and kept, and those of them inside links.
    chars: usize,
    link_chars: usize,
    /// Links opened, chrome elements dropped, images and level-1 headings written.
    links: usize,
    drops: usize,
    images: usize,
    h1s: usize,
    /// Characters and link characters written, counting those cut back since.
    raw_chars: usize,
    raw_link_chars: usize,
}

/// What an element is judged on when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    /// A box outside an article: chrome when it is mostly links (a link list, a footer's
    /// site map), or when a widget inside it was dropped and only its label is left.
    Box,
    /// A site's `footer`: chrome unless it holds one short line (a copyright notice).
    Footer,
    /// A form: chrome unless it holds a page's worth of text (ASP.NET wraps whole pages in one).
    Form,
}

/// The elements implied end tags look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    P,
    Li,
    /// `ul`, `ol`, `menu`: a list item does not close an item of an outer list.
    List,
    /// `dt`, `dd`.
    Term,
    Dl,
    Tr,
    /// `td`, `th`.
    Cell,
    Table,
    /// The rest of the standard's "button scope": an open paragraph outside it stays open.
    Scope,
    Other,
}

impl Kind {
    fn of(name: &[u8]) -> Kind {
        match name {
            b"p" => Kind::P,
            b"li" => Kind::Li,
            b"ul" | b"ol" | b"menu" => Kind::List,
            b"dt" | b"dd" => Kind::Term,
            b"dl" => Kind::Dl,
            b"tr" => Kind::Tr,
            b"td" | b"th" => Kind::Cell,
            b"table" => Kind::Table,
            b"html" | b"caption" | b"template" | b"button" | b"object" | b"marquee" | b"applet" => {
                Kind::Scope
            }
            _ => Kind::Other,
        }
    }
}

/// Whitespace seen since the last character written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Gap {
    #[default]
    None,
    /// Spaces or tabs: one space.
    Space,
    /// A run with a line break: nothing between CJK characters, else one space.
    Break,
}

/// The start tag being read: its name and the attributes the rendering looks at.
#[derive(Default)]
struct StartTag {
    name: Vec<u8>,
    /// `class` and `id`, lower case, space-separated.
    names: String,
    alt: Option<String>,
    hidden: bool,
    /// The attribute whose value comes next.
    attr: Attr,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Attr {
    #[default]
    Other,
    Class,
    Alt,
    Style,
}

#[derive(Default)]
struct Render {
    /// The markdown written so far.
    out: String,
    stack: Vec<Open>,
    /// Open elements by role, so context questions cost nothing.
    skip: usize,
    pre: usize,
    toc: usize,
    figure: usize,
    /// Open `<p>` elements: most block starts need no walk for one to close.
    open_p: usize,
    /// Levels of the open headings, innermost last.
    headings: Vec<u8>,
    /// Inside `<head>` and not yet in the body.
    in_head: bool,
    /// Finished lines of the block being written, escaped.
    lines: Vec<String>,
    /// The line being written, escaped.
    line: String,
    /// The last character written to `line`.
    last: Option<char>,
    gap: Gap,
    /// A `<br>` ended the line before: an indent now starts a new paragraph.
    after_br: bool,
    /// Indent (`&nbsp;` counts one, `　` two) at the start of the line.
    indent: usize,
    /// Just after `<pre>`: its first line break is not content.
    pre_start: bool,
    tag: Option<StartTag>,
    /// What has been written: [`Mark`] snapshots it.
    counts: Counts,
    /// Open bylines / meta rows: a heading in one is not a headline.
    in_meta: usize,
    /// Open links and articles.
    in_link: usize,
    in_article: usize,
}

impl Render {
    fn event(&mut self, event: CallbackEvent<'_>) {
        match event {
            CallbackEvent::OpenStartTag { name } => {
                self.tag = Some(StartTag {
                    name: name.to_vec(),
                    ..StartTag::default()
                });
            }
            CallbackEvent::AttributeName { name } => {
                if let Some(tag) = &mut self.tag {
                    tag.attr = match name {
                        b"class" | b"id" | b"role" => Attr::Class,
                        b"alt" if tag.alt.is_none() => Attr::Alt,
                        b"style" => Attr::Style,
                        b"hidden" => {
                            tag.hidden = true;
                            Attr::Other
                        }
                        _ => Attr::Other,
                    };
                    if tag.attr == Attr::Alt {
                        tag.alt = Some(String::new());
                    }
                }
            }
            CallbackEvent::AttributeValue { value } => {
                if let Some(tag) = &mut self.tag {
                    match tag.attr {
                        Attr::Class if tag.names.len() < 256 => {
                            tag.names.push(' ');
                            tag.names
                                .push_str(&String::from_utf8_lossy(value).to_lowercase());
                        }
                        Attr::Alt => {
                            if let Some(alt) = &mut tag.alt {
                                if alt.is_empty() && value.len() <= 1024 {
                                    alt.push_str(&String::from_utf8_lossy(value));
                                }
                            }
                        }
                        Attr::Style => {
                            let v: String = String::from_utf8_lossy(value)
                                .chars()
                                .filter(|c| !c.is_whitespace())
                                .collect::<String>()
                                .to_ascii_lowercase();
                            tag.hidden |= v.contains("display:none");
                        }
                        _ => {}
                    }
                }
            }
            CallbackEvent::CloseStartTag { .. } => {
                if let Some(tag) = self.tag.take() {
                    self.start_tag(tag);
                }
            }
            CallbackEvent::EndTag { name } => {
                self.tag = None;
                self.end_tag(name);
            }
            CallbackEvent::String { value } => {
                if self.skip == 0 {
                    self.text(&String::from_utf8_lossy(value));
                }
            }
            CallbackEvent::Comment { .. }
            | CallbackEvent::Doctype { .. }
            | CallbackEvent::Error(_) => {}
        }
    }

    fn start_tag(&mut self, tag: StartTag) {
        let name = tag.name.as_slice();
        if self.in_head && !is_head_element(name) {
            self.in_head = false;
        }
        match name {
            b"head" => {
                self.in_head = true;
                return;
            }
            b"br" => return self.br(),
            b"img" | b"image" => return self.img(tag.alt.as_deref()),
            b"hr" => return self.flush(),
            _ if is_void(name) => return,
            _ => {}
        }
        // implied end tags: a block ends an open paragraph, a heading an open heading, a list
        // item the item before, ...
        if self.open_p > 0 && closes_paragraph(name) {
            self.close_open(Kind::P, &[Kind::Table, Kind::Cell, Kind::Scope]);
        }
        match name {
            b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
                if self
                    .stack
                    .last()
                    .is_some_and(|o| heading_level(&o.name).is_some()) =>
            {
                self.pop_one();
            }
            b"li" => self.close_open(Kind::Li, &[Kind::List]),
            b"dt" | b"dd" => self.close_open(Kind::Term, &[Kind::Dl]),
            b"tr" => self.close_open(Kind::Tr, &[Kind::Table]),
            b"td" | b"th" => self.close_open(Kind::Cell, &[Kind::Tr, Kind::Table]),
            _ => {}
        }
        let chrome = !tag.hidden && self.skip == 0 && self.is_chrome(name, &tag.names);
        let role = if tag.hidden || chrome {
            Role::Skip
        } else {
            self.role(name, &tag.names)
        };
        if self.stack.len() >= MAX_DEPTH {
            self.pop_one();
        }
        if chrome {
            self.counts.drops += 1;
        }
        let live = self.skip == 0 && role != Role::Skip;
        // a site footer ends the article above it; what it says (a copyright, the editor of
        // an e-paper page) stays for the furniture rules
        if live && self.in_article == 0 && self.pre == 0 && is_footer(name, &tag.names) {
            self.flush();
            self.out.push_str("***\n\n");
        }
        let check = match name {
            _ if !live => Check::Nothing,
            b"form" => Check::Form,
            b"footer" if self.in_article == 0 => Check::Footer,
            _ if self.toc == 0 && role == Role::Block && is_box(name) => Check::Box,
            _ => Check::Nothing,
        };
        let link = live && name == b"a";
        let article = live && (name == b"article" || has_word(&tag.names, "article"));
        let meta = live && is_meta(&tag.names);
        self.push(Open {
            kind: Kind::of(&tag.name),
            name: tag.name,
            role,
            mark: Mark::default(),
            check,
            link,
            article,
            meta,
        });
    }

    /// Site chrome, dropped with everything in it: `nav` (not a table of contents), `aside`
    /// outside an article, and elements whose class, id or role names chrome.
    fn is_chrome(&self, name: &[u8], names: &str) -> bool {
        match name {
            b"html" | b"body" | b"article" | b"main" => false,
            b"nav" => !is_toc(names),
            b"aside" => self.in_article == 0 || chrome_names(names),
            _ => chrome_names(names),
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            out: self.out.len(),
            counts: self.counts,
        }
    }

    /// Is the element that just closed chrome after all?
    fn judge(&self, open: &Open) -> bool {
        let (m, c) = (open.mark.counts, &self.counts);
        let chars = c.chars - m.chars;
        match open.check {
            Check::Nothing => false,
            Check::Form => chars < FORM_TEXT,
            Check::Footer => chars > FOOTER_LINE,
            Check::Box => {
                let links = c.links - m.links;
                let link_chars = c.link_chars - m.link_chars;
                // mostly links: a list of other stories, a site map (in an article: its tags)
                let least = if self.in_article > 0 { 3 } else { 2 };
                let link_list = chars > 0 && links >= least && link_chars * 10 >= chars * 8;
                // mostly links once the link lists cut from it count again, and little text
                // of its own left: a tabbed box of other stories with a picture title each
                let raw = c.raw_chars - m.raw_chars;
                let raw_links = c.raw_link_chars - m.raw_link_chars;
                let own = chars - link_chars;
                let link_box = self.in_article == 0
                    && raw > chars
                    && raw_links * 10 >= raw * 8
                    && own < OWN_TEXT
                    && c.h1s == m.h1s;
                // a widget was dropped and only its label is left (图集, Most Popular)
                let label = chars > 0
                    && chars <= LABEL_CHARS
                    && c.drops > m.drops
                    && c.images == m.images
                    && c.h1s == m.h1s;
                // a breadcrumb trail, known by its label (您的当前位置：新闻中心 > 武汉)
                let trail = chars < OWN_TEXT && {
                    let kept = self.out[open.mark.out..].trim_start_matches(['#', ' ']);
                    BREADCRUMB.iter().any(|b| kept.starts_with(b))
                };
                link_list || link_box || label || trail
            }
        }
    }

    fn role(&self, name: &[u8], names: &str) -> Role {
        if let Some(level) = heading_level(name) {
            return if self.in_meta > 0 {
                Role::Block
            } else {
                Role::Heading(level)
            };
        }
        match name {
            b"script" | b"style" | b"noscript" | b"template" | b"title" | b"svg" | b"math"
            | b"iframe" | b"object" | b"select" | b"textarea" | b"button" | b"canvas"
            | b"audio" | b"video" | b"map" | b"datalist" | b"noembed" | b"noframes" => Role::Skip,
            b"pre" | b"listing" | b"xmp" | b"plaintext" => Role::Pre,
            b"nav" => Role::Toc,
            b"figure" => Role::Figure,
            b"td" | b"th" => title_level(names).map_or(Role::Cell, Role::Heading),
            b"p" => title_level(names).map_or(Role::Block, Role::Heading),
            b"founder-title" => Role::Heading(1),
            b"founder-subtitle" => Role::Heading(2),
            b"founder-pretitle" | b"founder-intitle" => Role::Heading(3),
            b"a" if self.toc > 0 => Role::Entry,
            b"div" if div_title_level(names).is_some() => {
                div_title_level(names).map_or(Role::Block, Role::Heading)
            }
            _ if is_block(name) => {
                if is_toc(names) {
                    Role::Toc
                } else {
                    Role::Block
                }
            }
            _ if is_caption(names) => Role::Block,
            // a kicker set inside the headline (`<h4><strong class="kicker">`) heads it
            _ if title_level(names) == Some(3) => {
                // one level under the heading it is in, so that it stays its kicker
                let outer = self.headings.last().copied();
                Role::Heading(outer.map_or(3, |l| (l + 1).min(6)))
            }
            _ => Role::Inline,
        }
    }

    fn push(&mut self, mut open: Open) {
        if open.role.is_block() || open.role == Role::Entry {
            self.flush();
        }
        open.mark = self.mark();
        if open.link {
            self.counts.links += 1;
            self.in_link += 1;
        }
        self.in_article += usize::from(open.article);
        self.in_meta += usize::from(open.meta);
        match open.role {
            Role::Skip => self.skip += 1,
            Role::Heading(level) => self.headings.push(level),
            Role::Pre => {
                self.pre += 1;
                self.pre_start = true;
            }
            Role::Toc => self.toc += 1,
            Role::Figure => self.figure += 1,
            Role::Cell => {
                if !self.line.is_empty() {
                    self.gap = Gap::Space;
                }
            }
            Role::Block | Role::Inline | Role::Entry => {}
        }
        self.open_p += usize::from(open.kind == Kind::P);
        self.stack.push(open);
    }

    fn pop_one(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        self.open_p -= usize::from(open.kind == Kind::P);
        if open.role.is_block() {
            self.flush();
        }
        self.in_link -= usize::from(open.link);
        self.in_article -= usize::from(open.article);
        self.in_meta -= usize::from(open.meta);
        if self.judge(&open) {
            // back to the mark, except what counts what was cut (drops, raw characters)
            let m = open.mark;
            self.out.truncate(m.out);
            self.counts = Counts {
                drops: self.counts.drops + 1,
                raw_chars: self.counts.raw_chars,
                raw_link_chars: self.counts.raw_link_chars,
                ..m.counts
            };
        }
        match open.role {
            Role::Skip => self.skip -= 1,
            Role::Heading(_) => {
                self.headings.pop();
            }
            Role::Pre => self.pre -= 1,
            Role::Toc => self.toc -= 1,
            Role::Figure => self.figure -= 1,
            Role::Cell | Role::Block | Role::Inline | Role::Entry => {}
        }
    }

    /// Closes the nearest open element of kind `kind`, unless one of a kind in `stop` is
    /// nearer (a list item does not close an item of the list around its own list).
    fn close_open(&mut self, kind: Kind, stop: &[Kind]) {
        let found = self
            .stack
            .iter()
            .rev()
            .take(END_TAG_REACH)
            .position(|o| o.kind == kind || stop.contains(&o.kind));
        if let Some(k) = found {
            let at = self.stack.len() - 1 - k;
            if self.stack[at].kind == kind {
                self.pop_to(at);
            }
        }
    }

    fn pop_to(&mut self, at: usize) {
        while self.stack.len() > at {
            self.pop_one();
        }
    }

    fn end_tag(&mut self, name: &[u8]) {
        match name {
            // as browsers do: `</br>` is a break, `</body>` and `</html>` close nothing
            b"br" => return self.br(),
            b"body" | b"html" => return,
            b"head" => {
                self.in_head = false;
                return;
            }
            _ => {}
        }
        let heading = heading_level(name).is_some();
        let found = self
            .stack
            .iter()
            .rev()
            .take(END_TAG_REACH)
            .position(|o| o.name == name || (heading && heading_level(&o.name).is_some()));
        match found {
            Some(k) => self.pop_to(self.stack.len() - 1 - k),
            // a stray `</p>` or `</div>` still ends the paragraph, as an empty one would
            None if is_block(name) => self.flush(),
            None => {}
        }
    }

    fn br(&mut self) {
        if self.skip > 0 || self.in_head {
            return;
        }
        if self.toc > 0 {
            return self.flush();
        }
        if !self.headings.is_empty() {
            self.gap = self.gap.max(Gap::Space);
            return;
        }
        if self.line.is_empty() && !self.lines.is_empty() && self.pre == 0 {
            // a second break in a row: the paragraph ends
            return self.flush();
        }
        let line = std::mem::take(&mut self.line);
        self.lines.push(line);
        self.last = None;
        self.gap = Gap::None;
        self.after_br = true;
        self.indent = 0;
    }

    fn img(&mut self, alt: Option<&str>) {
        if self.skip > 0 || self.in_head {
            return;
        }
        self.counts.images += 1;
        let alt = alt
            .map(str::trim)
            // a thumbnail in a link repeats the linked title: no caption
            .filter(|a| self.figure == 0 && self.in_link == 0 && says_something(a));
        match alt {
            Some(alt) => {
                self.flush();
                self.out.push_str("![](img)\n\n");
                self.text(alt);
                self.flush();
            }
            None => {
                // the image link inline, as a converter writes it
                if self.gap != Gap::None && !self.line.is_empty() {
                    self.line.push(' ');
                }
                self.line.push_str("![](img) ");
                self.last = None;
                self.gap = Gap::None;
            }
        }
    }

    fn text(&mut self, s: &str) {
        if self.in_head {
            if s.chars().all(char::is_whitespace) {
                return;
            }
            self.in_head = false;
        }
        if self.pre > 0 {
            return self.pre_text(s);
        }
        for c in s.chars() {
            if c.is_whitespace() {
                if self.line.is_empty() {
                    self.indent += match c {
                        '\u{3000}' => 2,
                        '\u{00A0}' => 1,
                        _ => 0,
                    };
                }
                self.gap = self
                    .gap
                    .max(if c == '\n' { Gap::Break } else { Gap::Space });
                continue;
            }
            self.char(c);
        }
    }

    fn pre_text(&mut self, s: &str) {
        for c in s.chars() {
            if std::mem::take(&mut self.pre_start) && c == '\n' {
                continue;
            }
            if c == '\n' {
                if self.line.trim().is_empty() {
                    // a blank line in the pre ends a paragraph
                    self.line.clear();
                    self.flush();
                } else {
                    let line = std::mem::take(&mut self.line);
                    self.lines.push(line);
                }
                self.last = None;
                continue;
            }
            if c.is_whitespace() {
                if !self.line.is_empty() {
                    self.line.push(' ');
                }
                continue;
            }
            self.gap = Gap::None;
            self.char(c);
        }
    }

    /// Writes one visible character, escaped.
    fn char(&mut self, c: char) {
        if self.line.is_empty() {
            // a `<br>` followed by an indent starts a new paragraph
            if self.after_br && self.indent >= 2 {
                self.flush();
            }
        } else {
            match self.gap {
                Gap::None => {}
                Gap::Break if self.last.is_some_and(text::is_cjk_like) && text::is_cjk_like(c) => {}
                Gap::Break | Gap::Space => self.line.push(' '),
            }
        }
        self.gap = Gap::None;
        self.after_br = false;
        self.indent = 0;
        self.counts.chars += 1;
        self.counts.link_chars += usize::from(self.in_link > 0);
        self.counts.raw_chars += 1;
        self.counts.raw_link_chars += usize::from(self.in_link > 0);
        let at_start = self.line.is_empty();
        match c {
            // markdown at the start of a line: heading, quote, bullet
            '#' | '>' | '-' | '+' if at_start => {
                self.line.push_str(&format!("&#{};", c as u32));
            }
            // markdown anywhere: entity, tag, emphasis, code, link, escape
            '&' => self.line.push_str("&amp;"),
            '<' => self.line.push_str("&lt;"),
            '*' | '`' | '[' | '_' | '\\' => {
                self.line.push_str(&format!("&#{};", c as u32));
            }
            c => self.line.push(c),
        }
        self.last = Some(c);
    }

    /// Ends the block being written: a heading line or a paragraph.
    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(line);
        lines.retain(|l| !l.trim().is_empty());
        self.last = None;
        self.gap = Gap::None;
        self.after_br = false;
        self.indent = 0;
        if lines.is_empty() {
            return;
        }
        match self.headings.last() {
            Some(&level) if self.pre == 0 => {
                self.counts.h1s += usize::from(level == 1);
                for _ in 0..level {
                    self.out.push('#');
                }
                self.out.push(' ');
                self.out.push_str(lines.join(" ").trim());
            }
            _ => {
                for (i, l) in lines.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str("  \n");
                    }
                    self.out.push_str(l.trim_end());
                }
            }
        }
        self.out.push_str("\n\n");
    }
}

/// Start tags that end an open `<p>`, as the HTML standard has them.
fn closes_paragraph(name: &[u8]) -> bool {
    heading_level(name).is_some()
        || matches!(
            name,
            b"address"
                | b"article"
                | b"aside"
                | b"blockquote"
                | b"center"
                | b"details"
                | b"dialog"
                | b"dir"
                | b"div"
                | b"dl"
                | b"dd"
                | b"dt"
                | b"fieldset"
                | b"figcaption"
                | b"figure"
                | b"footer"
                | b"form"
                | b"header"
                | b"hgroup"
                | b"li"
                | b"listing"
                | b"main"
                | b"menu"
                | b"nav"
                | b"ol"
                | b"p"
                | b"plaintext"
                | b"pre"
                | b"search"
                | b"section"
                | b"summary"
                | b"table"
                | b"ul"
                | b"xmp"
        )
}

fn heading_level(name: &[u8]) -> Option<u8> {
    match name {
        [b'h', d @ b'1'..=b'6'] => Some(d - b'0'),
        _ => None,
    }
}

/// Elements that may stand in `<head>`; any other start tag opens the body (also for
/// `pagewire eval`, which keys an HTML page's visible text).
pub(crate) fn is_head_element(name: &[u8]) -> bool {
    matches!(
        name,
        b"meta" | b"link" | b"title" | b"style" | b"script" | b"base" | b"noscript" | b"template"
    )
}

fn is_void(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"source"
            | b"track"
            | b"wbr"
            | b"param"
            | b"keygen"
            | b"basefont"
            | b"bgsound"
            | b"frame"
    )
}

fn is_block(name: &[u8]) -> bool {
    matches!(
        name,
        b"p" | b"div"
            | b"section"
            | b"article"
            | b"header"
            | b"footer"
            | b"main"
            | b"aside"
            | b"blockquote"
            | b"li"
            | b"ul"
            | b"ol"
            | b"dl"
            | b"dt"
            | b"dd"
            | b"figure"
            | b"figcaption"
            | b"table"
            | b"caption"
            | b"thead"
            | b"tbody"
            | b"tfoot"
            | b"tr"
            | b"address"
            | b"details"
            | b"summary"
            | b"fieldset"
            | b"legend"
            | b"center"
            | b"hgroup"
            | b"menu"
            | b"dir"
            | b"search"
            | b"dialog"
            | b"form"
            | b"body"
            | b"html"
            | b"nav"
    )
}

/// The heading level a `class`/`id` gives a paragraph: a subtitle 2, a kicker 3, a title 1.
fn title_level(names: &str) -> Option<u8> {
    // a picture's or a widget's title is a caption or a label, not a headline
    let words = || {
        names.split_ascii_whitespace().filter(|w| {
            let first = w.split(['-', '_']).next().unwrap_or("");
            !WIDGET.contains(&first)
        })
    };
    let any = |subs: &[&str]| words().any(|w| subs.iter().any(|s| w.contains(s)));
    if any(&["subtitle", "sub-title", "sub_title", "futi", "fubiaoti"]) {
        Some(2)
    } else if any(&["pretitle", "pre-title", "pre_title", "yinti", "kicker"]) {
        Some(3)
    } else if any(&["title", "headline", "biaoti"]) {
        Some(1)
    } else {
        None
    }
}

/// Fewer visible characters than this in a form: a login, search or comment form.
const FORM_TEXT: usize = 400;
/// At most this many visible characters left in a box whose widget was dropped: its label.
const LABEL_CHARS: usize = 24;
/// More visible characters than this in a site's `footer`: more than a copyright line.
const FOOTER_LINE: usize = 80;
/// The labels a breadcrumb trail starts with.
const BREADCRUMB: &[&str] = &[
    "您的当前位置",
    "您的位置",
    "您现在的位置",
    "当前位置",
    "You are here",
];
/// Less text of its own than this (not in links) in a box of links: no story is in it.
const OWN_TEXT: usize = 100;

/// A byline or meta row, whose headings are not headlines.
fn is_meta(names: &str) -> bool {
    names.split_ascii_whitespace().any(|w| {
        w.split(['-', '_'])
            .any(|p| matches!(p, "byline" | "meta" | "author" | "dateline" | "info"))
    })
}

/// Is `word` one of the class / id names?
fn has_word(names: &str, word: &str) -> bool {
    names.split_ascii_whitespace().any(|w| w == word)
}

/// First parts of names of widgets' and pictures' titles (`box-title`, `pic-title-txt`).
const WIDGET: &[&str] = &[
    "box", "module", "widget", "group", "block", "column", "pic", "img", "photo", "video", "list",
    "nav", "sd", "share", "section", "sidebar", "site", "page",
];

/// The heading level a `div`'s class gives it: only a name that is a title
/// (`title`, `h-title`, `article-title`), not a widget's (`box-title`, `pic-title`).
fn div_title_level(names: &str) -> Option<u8> {
    names.split_ascii_whitespace().find_map(|w| {
        let mut parts = w.split(['-', '_']);
        let first = parts.next().unwrap_or("");
        let last = w.rsplit(['-', '_']).next().unwrap_or("");
        let title = [
            "title", "headline", "biaoti", "subtitle", "pretitle", "kicker",
        ];
        (title.contains(&last) && !WIDGET.contains(&first))
            .then(|| title_level(w))
            .flatten()
    })
}

/// Class / id / role names of site chrome, matched by the parts of a name (`menu-item`,
/// `share_box`), never inside another word (`ad` is not in `header`, `hot` not in `photo`).
fn chrome_names(names: &str) -> bool {
    names.split_ascii_whitespace().any(chrome_name)
}

fn chrome_name(name: &str) -> bool {
    // anywhere in a name: long words no other word holds
    const INSIDE: &[&str] = &[
        "breadcrumb",
        "sidebar",
        "related",
        "recommend",
        "share",
        "sharing",
        "social",
        "login",
        "logout",
        "signin",
        "signup",
        "subscribe",
        "subscription",
        "newsletter",
        "advert",
        "adsense",
        "dfp",
        "popular",
        "mostread",
        "trending",
        "tagcloud",
        "outbrain",
        "taboola",
        "sponsor",
        "widget",
        "swiper",
        "carousel",
        "slider",
        "popup",
        "lightbox",
        "cookie",
        "menu",
        "fenxiang",
        "xiangguan",
        "tuijian",
        "分享",
        "相关",
        "推荐",
        "热门",
        "热点",
        "评论",
        "导航",
    ];
    // a whole part of a name
    const PARTS: &[&str] = &[
        "nav",
        "navbar",
        "navigation",
        "ad",
        "ads",
        "adv",
        "promo",
        "promos",
        "hot",
        "comment",
        "comments",
        "pagination",
        "pager",
        "search",
        "complementary",
        "remen",
        "daohang",
        "pinglun",
    ];
    if INSIDE.iter().any(|w| name.contains(w)) {
        return true;
    }
    // a box's label (`group-header`, `module-title`, `section-header`): the site's name for
    // a box or a section, never an article's headline
    const BOX: &[&str] = &[
        "group", "module", "block", "widget", "box", "section", "column", "panel", "channel",
        "lanmu",
    ];
    const LABEL: &[&str] = &[
        "header", "head", "title", "heading", "label", "name", "logo",
    ];
    let first = name.split(['-', '_']).next().unwrap_or("");
    let last = name.rsplit(['-', '_']).next().unwrap_or("");
    if first != last && BOX.contains(&first) && LABEL.contains(&last) {
        return true;
    }
    name.split(['-', '_', ':']).any(|part| {
        PARTS.contains(&part)
            || (part.len() > 3 && (part.starts_with("nav") || part.ends_with("nav")))
            || (part.starts_with("comment") && !part.starts_with("commentar"))
    })
}

/// A site footer (the `footer` element outside an article, a `footer` class, the
/// `contentinfo` role).
fn is_footer(name: &[u8], names: &str) -> bool {
    name == b"footer"
        || names.split_ascii_whitespace().any(|w| {
            w == "contentinfo" || w.split(['-', '_']).any(|p| p == "footer" || p == "foot")
        })
}

/// Boxes judged when they close: a list of links or a widget's label is dropped.
fn is_box(name: &[u8]) -> bool {
    matches!(
        name,
        b"div"
            | b"section"
            | b"ul"
            | b"ol"
            | b"menu"
            | b"dl"
            | b"table"
            | b"header"
            | b"footer"
            | b"aside"
            | b"center"
            | b"dir"
            | b"details"
    )
}

/// A table of contents (导读): its links are entries.
fn is_toc(names: &str) -> bool {
    names.split_ascii_whitespace().any(|w| {
        ["toc", "daodu", "catalog", "mulu", "导读"]
            .iter()
            .any(|s| w.contains(s))
    })
}

/// A caption set apart by its class (`pic-caption`, `tuzhu`).
fn is_caption(names: &str) -> bool {
    names.split_ascii_whitespace().any(|w| {
        ["caption", "tuzhu", "pictext", "pic-text", "pic_text"]
            .iter()
            .any(|s| w.contains(s))
    })
}

/// Does an `alt` text say something (not empty, a file name or a stock word)?
fn says_something(alt: &str) -> bool {
    let lower = alt.to_lowercase();
    let stock = [
        "", "图片", "图", "照片", "image", "img", "photo", "picture", "logo", "icon", "pic",
    ];
    let file_name = alt.contains('.') && !alt.contains(char::is_whitespace) && alt.is_ascii();
    !stock.contains(&lower.as_str()) && !file_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::blocks::{items, Item, Syntax};

    /// The items the parser reads from the rendered page, as `# heading` / paragraph lines.
    fn read(html: &str) -> Vec<String> {
        items(&to_markdown(html), Syntax::Markdown, "", "")
            .into_iter()
            .map(|i| match i {
                Item::Heading { level, text } => format!("{} {text}", "#".repeat(level.into())),
                Item::Text { lines, .. } => lines.join(" / "),
                Item::Image => "[image]".into(),
                Item::Credit(c) => format!(
                    "[credit {}]",
                    c.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Item::Reference(r) => format!("[ref {}]", r[0].reference.text),
                Item::Furniture(_, line) => format!("[furniture {line}]"),
                Item::TeaserSection => "[teaser section]".into(),
                Item::Separator => "[separator]".into(),
                Item::Bullet => "[bullet]".into(),
            })
            .collect()
    }

    #[test]
    fn script_style_comments_and_head_are_dropped() {
        let page = r#"<!DOCTYPE html><html><head><title>包头日报</title>
            <style>p { color: red } h1 > a { }</style>
            <script>if (a < b && c > d) { document.write("<p>not text</p>"); }</script>
            </head><body><!-- <p>commented out</p> -->
            <noscript><p>enable javascript</p></noscript>
            <template><p>template</p></template>
            <div hidden>hidden</div><div style="display: none">also hidden</div>
            <h1>标题</h1><p>正文。</p></body></html>"#;
        assert_eq!(read(page), ["# 标题", "正文。"]);
    }

    #[test]
    fn an_unclosed_script_swallows_the_rest_as_a_browser_does() {
        assert_eq!(
            read("<p>before</p><script>var s = '</p><p>after';"),
            ["before"]
        );
    }

    #[test]
    fn a_gt_inside_an_attribute_value_does_not_end_the_tag() {
        let page = r#"<p title="a > b" data-x='<p>'>Text <a href="x?a>b">link</a> end.</p>"#;
        assert_eq!(read(page), ["Text link end."]);
    }

    #[test]
    fn entities_are_decoded_and_text_is_never_read_as_markdown() {
        let page = "<p>Tom &amp; Jerry &mdash; &lt;b&gt;not bold&lt;/b&gt; &#12290;&#x4E2D; &nbsp;x</p>\
                    <p># not a heading *not emphasis* [not](a link) __x__ \\</p><p>- not a bullet</p>";
        assert_eq!(
            read(page),
            [
                "Tom & Jerry — <b>not bold</b> 。中 x",
                "# not a heading *not emphasis* [not](a link) __x__ \\",
                "- not a bullet"
            ]
        );
    }

    #[test]
    fn unclosed_tags_end_where_a_browser_ends_them() {
        let page = "<h1>Title<p>First<p>Second<ul><li>One<li>Two</ul><table><tr><td>A<td>B<tr><td>C</table>";
        assert_eq!(
            read(page),
            ["# Title", "# First", "# Second", "# One", "# Two", "# A B", "# C"]
        );
        let page = "<h2>Title</h2><p>First<p>Second<ul><li>One<li>Two</ul><table><tr><td>A<td>B<tr><td>C</table>";
        assert_eq!(
            read(page),
            ["## Title", "First", "Second", "One", "Two", "A B", "C"]
        );
    }

    #[test]
    fn deep_nesting_keeps_the_innermost_context() {
        let deep = format!(
            "{}<h2>Deep</h2><p>text</p>{}",
            "<div><span>".repeat(5000),
            "</span></div>".repeat(5000)
        );
        assert_eq!(read(&deep), ["## Deep", "text"]);
        let unclosed = format!("{}<h3>Still a heading</h3><p>body", "<div>".repeat(10_000));
        assert_eq!(read(&unclosed), ["### Still a heading", "body"]);
    }

    #[test]
    fn a_block_ends_an_open_paragraph_so_its_context_survives_the_next_one() {
        let page = r#"<p>intro<div class="daodu"><p><a>甲</a>（详见第2版）<p><a>乙</a><br><a>丙</a></div><p>after"#;
        assert_eq!(
            read(page),
            ["intro", "甲（详见第2版）", "乙", "丙", "after"]
        );
        // a paragraph in a table cell does not end the one around the table
        let page = "<p>before<table><tr><td><p>cell</td></tr></table>after</p>";
        assert_eq!(read(page), ["before", "cell", "after"]);
    }

    #[test]
    fn breaks_and_indents_split_lines_and_paragraphs() {
        let page = "<p>让优质医疗资源<br>请进来留得住</p>\
                    <p>&nbsp;&nbsp;&nbsp;&nbsp;第一段。<br>&nbsp;&nbsp;&nbsp;&nbsp;第二段。</p>\
                    <p>One<br><br>Two</p><h1>A<br>B</h1>";
        assert_eq!(
            read(page),
            [
                "让优质医疗资源 / 请进来留得住",
                "第一段。",
                "第二段。",
                "One",
                "Two",
                "# A B"
            ]
        );
        let md = to_markdown("<p>让优质医疗资源<br>请进来留得住</p>");
        assert_eq!(md, "让优质医疗资源  \n请进来留得住\n\n");
    }

    #[test]
    fn whitespace_collapses_like_a_browser() {
        let page = "<p>\n  北疆文化节\n  开幕  了，\n  The   fair\n opens.\n</p><pre>\n  a   b\n  c\n</pre>";
        assert_eq!(
            read(page),
            ["北疆文化节开幕 了， The fair opens.", "a b / c"]
        );
    }

    #[test]
    fn title_classes_and_founder_tags_make_a_headline_stack() {
        let page = r#"<p class="pretitle">引题</p><p class="title">主标题</p><p class="subtitle">——副题</p>
            <founder-title>标题二</founder-title><founder-content><p>正文。</p></founder-content>"#;
        assert_eq!(
            read(page),
            ["### 引题", "# 主标题", "## ——副题", "# 标题二", "正文。"]
        );
    }

    #[test]
    fn tables_of_contents_have_one_entry_a_line() {
        let page = r#"<div class="daodu"><h3>今日导读</h3><a href="a">全市重点项目建设提速</a>（详见第二版）<br>
            <a href="b">暑期文旅消费持续升温</a></div>"#;
        assert_eq!(
            read(page),
            [
                "[teaser section]",
                "全市重点项目建设提速（详见第二版）",
                "暑期文旅消费持续升温"
            ]
        );
    }

    #[test]
    fn images_become_image_links_with_their_alt_as_caption() {
        let page = r#"<p><img src="a.jpg" alt="Children swim in the Elm Street pool."></p>
            <figure><img src="b.jpg" alt="ignored"><figcaption>The caption.</figcaption></figure>
            <p><img src="icon.gif" alt="icon.gif">Text.</p>"#;
        assert_eq!(
            read(page),
            [
                "[image]",
                "Children swim in the Elm Street pool.",
                "[image]",
                "The caption.",
                "[image]",
                "Text."
            ]
        );
    }

    #[test]
    fn site_chrome_named_by_element_class_id_or_role_is_dropped() {
        let page = r#"<nav><a href="/">Home</a> <a href="/city">City</a></nav>
            <div class="share-bar">Share this: Facebook</div><div id="comments">Leave a reply</div>
            <div class="most-popular">Readers liked</div><div role="navigation">Jump to</div>
            <div class="bdsharebuttonbox">分享到</div><div class="xgyd 相关阅读">相关阅读</div>
            <aside>Weather today: sunny</aside>
            <form action="/login"><label>Email</label> <input name="e"> Remember me</form>
            <div class="masthead"><h1>Bridge Vote Passes</h1></div>
            <div class="header shadow"><p>Council votes 6-1 for the new span.</p></div>
            <div class="photo-caption">A bridge at dusk.</div>"#;
        assert_eq!(
            read(page),
            [
                "# Bridge Vote Passes",
                "Council votes 6-1 for the new span.",
                "A bridge at dusk."
            ]
        );
    }

    #[test]
    fn lists_of_links_and_orphaned_widget_labels_are_dropped() {
        let page = r#"<div class="box"><h3>Elsewhere</h3><ul>
              <li><a href="/a">Fair opens Friday</a></li><li><a href="/b">Rain due</a></li></ul></div>
            <div class="gallery"><span>图集</span><div class="carousel"></div></div>
            <h1>Mill Creek Bridge Wins Vote</h1>
            <p>The council <a href="/c">voted</a> on Tuesday to build a new bridge.</p>
            <div class="where"><h2>当前位置：<a href="/">首页</a> &gt; 本地</h2></div>
            <p><a href="/d">Continued on Page A5</a></p>"#;
        assert_eq!(
            read(page),
            [
                "# Mill Creek Bridge Wins Vote",
                "The council voted on Tuesday to build a new bridge.",
                "[ref Continued on Page A5]"
            ]
        );
    }

    #[test]
    fn an_article_keeps_its_own_short_link_rows_and_loses_its_tag_list() {
        let page = r#"<article><h1>Park Opens</h1><p>The park opened on Monday.</p>
            <div class="tags">Tags: <a>City parks</a> <a>Summer events</a> <a>Mill Creek</a></div>
            <p>By <a href="/s/ana">Ana Ruiz</a> and <a href="/s/tom">Tom Price</a></p></article>"#;
        assert_eq!(
            read(page),
            [
                "# Park Opens",
                "The park opened on Monday.",
                "[credit Ana Ruiz, Tom Price]"
            ]
        );
    }

    #[test]
    fn a_site_footer_is_dropped_but_a_one_line_notice_and_an_epaper_footer_stay() {
        let long = r#"<h1>Park Opens</h1><p>The park opened on Monday.</p>
            <footer><p>About us | Contact | Jobs</p><p>Licence 12345, registered office
            at 1 Mill Road, all rights reserved, no copying without permission.</p></footer>"#;
        assert_eq!(read(long), ["# Park Opens", "The park opened on Monday."]);
        let short = "<h1>Park Opens</h1><p>Text.</p><footer><p>© 2025 The Courier</p></footer>";
        assert_eq!(read(short), ["# Park Opens", "Text.", "© 2025 The Courier"]);
        let epaper = r#"<div class="article"><h1>标题</h1><p>正文。</p></div>
            <div class="footer"><p>本版责编：刘晓</p></div>"#;
        assert_eq!(read(epaper)[..2], ["# 标题", "正文。"]);
        assert!(read(epaper).last().is_some_and(|l| l.contains("刘晓")));
    }

    #[test]
    fn kickers_in_a_headline_and_headings_in_a_byline_keep_their_place() {
        let page = r#"<h4><strong class="kicker">Editorial</strong> <a href="/x">A Bridge at Last</a></h4>
            <div class="h-title">Second Headline</div>
            <div class="entry-meta"><h6>Staff Writer</h6></div><p>Body text.</p>"#;
        assert_eq!(
            read(page),
            [
                "##### Editorial",
                "#### A Bridge at Last",
                "# Second Headline",
                "[credit ]",
                "Body text."
            ]
        );
    }

    #[test]
    fn hostile_shapes_cost_linear_time() {
        // Each shape is 1 MiB. A quadratic step on any of them costs seconds to minutes where
        // an ordinary page of the same size costs milliseconds, so each shape is judged
        // against the time an ordinary 1 MiB page takes in the same run (which a busy machine
        // slows down as much): at most 20 times it. BENCHMARKS.md has release figures.
        let mib = 1 << 20;
        let ordinary =
            "<h2>Title</h2><p>Some text, <b>bold</b> &amp; plain.<br>More.</p>".repeat(mib / 64);
        let time = |page: &str| {
            let start = std::time::Instant::now();
            let md = to_markdown(page);
            (start.elapsed(), md.len())
        };
        let baseline = (0..3).map(|_| time(&ordinary).0).min().unwrap_or_default();
        let shapes = [
            "<div>".repeat(mib / 5),
            "<ul><li>".repeat(mib / 8),
            "<b><i><div></b>".repeat(mib / 15),
            "</p>".repeat(mib / 4),
            "<p>x".repeat(mib / 4),
            "<".repeat(mib),
            format!("<p title=\"{}\">x</p>", "a>".repeat(mib / 2)),
            format!(
                "<p {}>x</p>",
                (0..mib / 7).map(|i| format!("a{i} ")).collect::<String>()
            ),
            format!("<!--{}-->", "-".repeat(mib)),
            format!("<!--{}", "x".repeat(mib)),
            "&amp;&#12290;&nbsp;".repeat(mib / 19),
            "*".repeat(mib),
        ];
        for shape in shapes {
            let (took, len) = time(&shape);
            assert!(len <= shape.len() * 6);
            assert!(
                took < baseline * 20,
                "{:?}…: {took:?}, an ordinary page {baseline:?}",
                &shape[..20]
            );
        }
    }
}
