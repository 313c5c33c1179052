//! XML in and out, with quick-xml. Requests are read into a small namespace-resolved tree
//! (bounded in depth and size; a DOCTYPE, and with it any entity definition, is refused, so
//! no entity is ever expanded); responses are written event by event, never by formatting
//! strings, so every text and attribute is escaped by the writer.

use std::borrow::Cow;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE_ICAL: &str = "http://apple.com/ns/ical/";

/// Deeper than any real DAV request (a calendar-query filter is six levels).
const MAX_DEPTH: usize = 32;
/// More elements than any real request (a multiget of 1,000 objects is about 1,000).
const MAX_ELEMENTS: usize = 20_000;

/// An element of a request body, its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("document type declarations (and entities) are not accepted")]
    DocType,
    #[error("the XML is nested or sized beyond any DAV request")]
    TooLarge,
    #[error("the body holds no XML element")]
    Empty,
}

/// Reads a request body into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let mut reader = NsReader::from_reader(body);
    // Text is kept as sent (a name may hold "a &amp; b"); readers trim where it matters.
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut elements = 0usize;
    let mut root: Option<Element> = None;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(XmlError::Malformed(format!(
                    "undeclared namespace prefix {}",
                    String::from_utf8_lossy(&prefix)
                )))
            }
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError::Malformed("content after the root element".into()));
            }
            Event::Start(start) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                stack.push(element(&start, ns)?);
            }
            Event::Empty(start) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                let done = element(&start, ns)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError::Malformed("an end tag without its start".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| malformed(&e))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| malformed(&e))?;
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().map_err(|e| malformed(&e))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError::Malformed(format!("unknown entity &{name};")))?
                            .to_string()
                    }
                };
                push_text(&mut stack, &text)?;
            }
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("the document ends inside an element".into()));
    }
    root.ok_or(XmlError::Empty)
}

fn element(start: &BytesStart<'_>, ns: String) -> Result<Element, XmlError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element { ns, name, attributes, children: Vec::new(), text: String::new() })
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(current) => {
            current.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

/// A response body being written. Writing into a `Vec` cannot fail, so the writer's I/O
/// results carry nothing and are dropped here, once.
pub struct XmlOut {
    writer: quick_xml::Writer<Vec<u8>>,
}

impl Default for XmlOut {
    fn default() -> Self {
        let mut out = XmlOut { writer: quick_xml::Writer::new(Vec::with_capacity(4096)) };
        out.event(Event::Decl(quick_xml::events::BytesDecl::new("1.0", Some("utf-8"), None)));
        out
    }
}

impl XmlOut {
    fn event(&mut self, event: Event<'_>) {
        let _infallible = self.writer.write_event(event);
    }

    /// The root element, declaring the namespaces every response uses.
    pub fn root(&mut self, name: &str) {
        let start = BytesStart::new(name).with_attributes([
            ("xmlns:d", DAV),
            ("xmlns:c", CALDAV),
            ("xmlns:cs", CALENDARSERVER),
            ("xmlns:ic", APPLE_ICAL),
        ]);
        self.event(Event::Start(start));
    }

    pub fn start(&mut self, name: &str) {
        self.event(Event::Start(BytesStart::new(name)));
    }

    pub fn start_with(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.event(Event::Start(BytesStart::new(name).with_attributes(attributes.iter().copied())));
    }

    pub fn end(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    pub fn empty(&mut self, name: &str) {
        self.event(Event::Empty(BytesStart::new(name)));
    }

    pub fn empty_with(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.event(Event::Empty(BytesStart::new(name).with_attributes(attributes.iter().copied())));
    }

    /// `<name>text</name>`, the text escaped. In element content only `<` and `&` (and `>`
    /// after `]]`) need escaping; calendar data rarely holds any, so a vectorised scan lets
    /// most bodies through without a byte-by-byte pass.
    pub fn text(&mut self, name: &str, text: &str) {
        self.start(name);
        let text = if memchr::memchr3(b'<', b'>', b'&', text.as_bytes()).is_none() {
            BytesText::from_escaped(text)
        } else {
            BytesText::new(text)
        };
        self.event(Event::Text(text));
        self.end(name);
    }

    /// An element of a namespace the response did not declare (a property a client asked
    /// for that Eventide does not know), declared on the element itself.
    pub fn foreign_empty(&mut self, ns: &str, name: &str) {
        let attributes: [(&str, &str); 1] = [("xmlns:x", ns)];
        let qualified: Cow<'_, str> = format!("x:{name}").into();
        self.event(Event::Empty(BytesStart::new(qualified).with_attributes(attributes)));
    }

    pub fn finish(self) -> Vec<u8> {
        self.writer.into_inner()
    }

    /// Bytes written and not yet taken.
    pub fn len(&self) -> usize {
        self.writer.get_ref().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What has been written so far, leaving the writer empty to go on (a streamed body).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(self.writer.get_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_resolved_whatever_the_prefix() {
        let body = br#"<?xml version="1.0"?><A:propfind xmlns:A="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
            <A:prop><A:getetag/><C:calendar-data>x &amp; y&#33;</C:calendar-data><foo xmlns="urn:x"/></A:prop></A:propfind>"#;
        let root = parse(body).unwrap();
        assert!(root.is(DAV, "propfind"));
        let prop = root.child(DAV, "prop").unwrap();
        assert!(prop.children[0].is(DAV, "getetag"));
        assert_eq!(prop.children[1].text, "x & y!");
        assert!(prop.children[2].is("urn:x", "foo"));
    }

    #[test]
    fn hostile_or_broken_xml_is_refused() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><d:propfind xmlns:d="DAV:">&lol2;</d:propfind>"#;
        assert_eq!(parse(bomb), Err(XmlError::DocType));
        let unknown = br#"<d:propfind xmlns:d="DAV:">&lol;</d:propfind>"#;
        assert!(matches!(parse(unknown), Err(XmlError::Malformed(_))));
        for broken in [&b"<d:a xmlns:d='DAV:'><d:b></d:a>"[..], b"<a>", b"", b"<x:a/>", b"<a/><b/>", b"text"]
        {
            assert!(parse(broken).is_err(), "{}", String::from_utf8_lossy(broken));
        }
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooLarge));
    }

    #[test]
    fn output_is_escaped() {
        let mut out = XmlOut::default();
        out.root("d:multistatus");
        out.text("d:href", "/a&b<c>");
        out.foreign_empty("urn:x\"y", "z");
        out.end("d:multistatus");
        let text = String::from_utf8(out.finish()).unwrap();
        assert!(text.contains("<d:href>/a&amp;b&lt;c&gt;</d:href>"), "{text}");
        assert!(text.contains("xmlns:x=\"urn:x&quot;y\""), "{text}");
        assert!(parse(text.as_bytes()).is_ok());
    }
}
