//! Reading iCalendar as real producers write it: LF or CRLF, folded lines (space or tab),
//! quoted parameters, lower-case names, X- properties and components, and components left
//! open. Never panics: whatever cannot be read is skipped, and the importer reports per event.

/// One content line: `NAME;PARAM=VALUE:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub value: String,
}

impl Property {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The property as one unfolded content line again (parameter values quoted where they
    /// must be, control characters left out).
    pub fn to_line(&self) -> String {
        let mut line = self.name.clone();
        for (name, value) in &self.params {
            line.push(';');
            line.push_str(name);
            line.push('=');
            if value.contains([':', ';', ',']) {
                line.push('"');
                line.push_str(&value.replace('"', ""));
                line.push('"');
            } else {
                line.push_str(value);
            }
        }
        line.push(':');
        line.push_str(&self.value);
        line.retain(|c| c == '\t' || !c.is_control());
        line
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub properties: Vec<Property>,
    pub children: Vec<Component>,
}

impl Component {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }

    /// The component as content lines (BEGIN, its properties, its children, END). Recursive,
    /// but the parser caps nesting at `MAX_DEPTH`.
    pub fn write_lines(&self, lines: &mut Vec<String>) {
        lines.push(format!("BEGIN:{}", self.name));
        lines.extend(self.properties.iter().map(Property::to_line));
        for child in &self.children {
            child.write_lines(lines);
        }
        lines.push(format!("END:{}", self.name));
    }

    /// Every descendant component named `name`, in file order. Walked with an explicit
    /// stack: the parser caps nesting, but nothing here should depend on that for safety.
    pub fn descendants<'a>(&'a self, name: &str) -> Vec<&'a Component> {
        let mut found = Vec::new();
        let mut pending: Vec<&Component> = self.children.iter().rev().collect();
        while let Some(component) = pending.pop() {
            if component.name == name {
                found.push(component);
            }
            pending.extend(component.children.iter().rev());
        }
        found
    }
}

/// How deep components may nest. Real files need 3 (VCALENDAR > VEVENT > VALARM, or
/// VCALENDAR > VTIMEZONE > STANDARD); a file nested deeper is hostile or broken, and a deep
/// tree would cost stack in every recursive walk, drop and comparison.
pub const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("this is not an iCalendar file (no BEGIN:VCALENDAR)")]
    NotCalendar,
    #[error("its components are nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

/// Joins folded lines: a line starting with a space or tab continues the previous one.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.chars().next() {
            Some(' ' | '\t') => match lines.last_mut() {
                Some(last) => last.push_str(&raw[1..]),
                None => lines.push(raw[1..].to_string()),
            },
            _ => lines.push(raw.to_string()),
        }
    }
    lines.retain(|l| !l.trim().is_empty());
    lines
}

/// Splits at the first `sep` outside double quotes.
fn split_unquoted(text: &str, sep: char) -> (&str, Option<&str>) {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => return (&text[..i], Some(&text[i + c.len_utf8()..])),
            _ => {}
        }
    }
    (text, None)
}

pub fn parse_line(line: &str) -> Option<Property> {
    let (head, value) = split_unquoted(line, ':');
    let value = value?;
    let mut rest = Some(head);
    let mut name = None;
    let mut params = Vec::new();
    while let Some(part) = rest {
        let (piece, next) = split_unquoted(part, ';');
        rest = next;
        if name.is_none() {
            name = Some(piece.trim().to_ascii_uppercase());
            continue;
        }
        if let Some((key, value)) = piece.split_once('=') {
            params.push((key.trim().to_ascii_uppercase(), value.trim().trim_matches('"').to_string()));
        }
    }
    let name = name.filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))?;
    Some(Property { name, params, value: value.to_string() })
}

/// The VCALENDAR in `text`. Lines that are not content lines are skipped; an END without its
/// BEGIN is ignored; components left open are closed at the end. Iterative, with nesting
/// capped at `MAX_DEPTH`.
pub fn parse(text: &str) -> Result<Component, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    // The root holds what the file's top level holds; it is not a component of the file.
    let mut stack: Vec<Component> = vec![Component::default()];
    for line in unfold(text) {
        let Some(property) = parse_line(&line) else { continue };
        match property.name.as_str() {
            "BEGIN" => {
                if stack.len() > MAX_DEPTH {
                    return Err(ParseError::TooDeep);
                }
                stack.push(Component {
                    name: property.value.trim().to_ascii_uppercase(),
                    ..Default::default()
                })
            }
            "END" => {
                let name = property.value.trim().to_ascii_uppercase();
                if let Some(depth) = stack.iter().rposition(|c| c.name == name).filter(|d| *d > 0) {
                    while stack.len() > depth {
                        close(&mut stack);
                    }
                }
            }
            _ => {
                if let Some(current) = stack.last_mut() {
                    current.properties.push(property);
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    let root = stack.pop().unwrap_or_default();
    root.children.into_iter().find(|c| c.name == "VCALENDAR").ok_or(ParseError::NotCalendar)
}

fn close(stack: &mut Vec<Component>) {
    if let Some(done) = stack.pop() {
        if let Some(parent) = stack.last_mut() {
            parent.children.push(done);
        }
    }
}

/// TEXT values: `\n`, `\,`, `\;`, `\\` back to characters.
pub fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
