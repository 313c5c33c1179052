//! Tera templates, embedded with rust-embed so the release binary runs from any directory.
//! Each `x.html.tera` file is registered as `x.html`: the `.html` suffix is what turns on
//! Tera's autoescaping and gives the response its HTML content type.

use std::collections::HashMap;

use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket_dyn_templates::{tera, Template};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct TemplateFiles;

/// The engine cached fragments render with. Not Rocket's `Metadata::render`: that serialises
/// a context twice (into figment's value, then into Tera's), which was a third of a month
/// view's instructions. Same templates, same escaping, loaded once at launch.
pub struct FragmentEngine(tera::Tera);

/// The fragment engine as a request guard.
pub struct Fragments<'r>(&'r tera::Tera);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Fragments<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match request.rocket().state::<FragmentEngine>() {
            Some(engine) => Outcome::Success(Fragments(&engine.0)),
            None => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

/// Renders a template to a string (for the cache).
pub fn render_to_string(
    templates: &Fragments<'_>,
    name: &'static str,
    context: &impl serde::Serialize,
) -> Result<String, crate::error::AppError> {
    let failed = |e: tera::Error| {
        // Tera's own message is one line; its cause says which variable or filter.
        let cause = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
        crate::error::AppError::Internal(format!("template {name} failed to render: {e} {cause}"))
    };
    let context = tera::Context::from_serialize(context).map_err(failed)?;
    templates.0.render(name, &context).map_err(failed)
}

/// Template indentation is most of a month grid's bytes, so it goes when the templates are
/// loaded, not on every render: a whitespace-only run between two tags (HTML `<…>`, Tera
/// `{% … %}` and `{# … #}`) becomes one space, which renders the same; text and `{{ … }}`
/// output are never touched. Byte by byte: these delimiters and ASCII whitespace are never
/// part of a longer UTF-8 character.
fn collapse_indentation(source: &str) -> String {
    let bytes = source.as_bytes();
    let closes_tag = |at: usize| {
        bytes[..at].ends_with(b">") || bytes[..at].ends_with(b"%}") || bytes[..at].ends_with(b"#}")
    };
    let opens_tag = |at: usize| {
        let rest = &bytes[at..];
        rest.starts_with(b"<") || rest.starts_with(b"{%") || rest.starts_with(b"{#")
    };
    let mut out = String::with_capacity(source.len());
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        if !bytes[at].is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let end = at + bytes[at..].iter().take_while(|b| b.is_ascii_whitespace()).count();
        if at > 0 && closes_tag(at) && end < bytes.len() && opens_tag(end) {
            out.push_str(&source[copied..at]);
            out.push(' ');
            copied = end;
        }
        at = end;
    }
    out.push_str(&source[copied..]);
    out
}

/// Every page template (mail has its own engine, `mail::letters`: its text keeps its layout).
fn install(tera: &mut tera::Tera) -> Result<(), Box<dyn std::error::Error>> {
    let mut sources = Vec::new();
    for file in TemplateFiles::iter() {
        let Some(name) = file.strip_suffix(".tera").filter(|name| !name.starts_with("mail/")) else {
            continue;
        };
        let Some(content) = TemplateFiles::get(&file) else {
            continue;
        };
        let source = String::from_utf8(content.data.into_owned())?;
        sources.push((name.to_string(), collapse_indentation(&source)));
    }
    tera.add_raw_templates(sources)?;
    tera.register_function("asset", asset_url);
    tera.set_escape_fn(escape_html);
    Ok(())
}

/// Rocket's engine for full pages, and ours for fragments.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Templates", |rocket| async {
        let mut fragments = tera::Tera::default();
        if let Err(e) = install(&mut fragments) {
            log::error!("The templates could not be loaded: {e}");
            return Err(rocket);
        }
        Ok(rocket
            .attach(Template::try_custom(|engines| install(&mut engines.tera)))
            .manage(FragmentEngine(fragments)))
    })
}

fn asset_url(args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let name = args
        .get("name")
        .and_then(tera::Value::as_str)
        .ok_or_else(|| tera::Error::msg("asset() needs a `name`"))?;
    super::assets::url(name)
        .map(|url| tera::Value::String(url.to_string()))
        .ok_or_else(|| tera::Error::msg(format!("no embedded asset named {name:?}")))
}

/// Tera's default escaper also rewrites `/`, which mangles every URL in the markup for no
/// gain: in element content and quoted attributes only `& < > " '` can break out.
pub fn escape_html(input: &str) -> String {
    let mut output = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => output.push_str("&amp;"),
            '<' => output.push_str("&lt;"),
            '>' => output.push_str("&gt;"),
            '"' => output.push_str("&quot;"),
            '\'' => output.push_str("&#x27;"),
            _ => output.push(c),
        }
    }
    output
}

#[cfg(test)]
mod tests {
    #[test]
    fn indentation_between_tags_collapses_and_text_stays() {
        let html = "<ul>\n    <li>a  b</li>\n\n  <li> c </li>\n</ul>\n";
        assert_eq!(super::collapse_indentation(html), "<ul> <li>a  b</li> <li> c </li> </ul>\n");
        assert_eq!(super::collapse_indentation("<p>x</p>   tail"), "<p>x</p>   tail");
        assert_eq!(super::collapse_indentation("<b>é</b>\t\n<i>ü</i> >  <"), "<b>é</b> <i>ü</i> > <");
        assert_eq!(super::collapse_indentation("<a>  "), "<a>  ");
        let tera =
            "<ul>\n  {% for x in xs %}\n    <li>{{ x }}\n  {{ y }}</li>\n  {% endfor %}\n  {# c #}\n</ul>";
        assert_eq!(
            super::collapse_indentation(tera),
            "<ul> {% for x in xs %} <li>{{ x }}\n  {{ y }}</li> {% endfor %} {# c #} </ul>"
        );
        let textarea = "<textarea>\n{{ description }}</textarea>";
        assert_eq!(super::collapse_indentation(textarea), textarea, "a value's own whitespace stays");
    }

    /// `| safe` prints only `web::markup::Markup` fields (no method of which takes free text)
    /// and fragments our own autoescaping templates rendered: a template that passes any
    /// other value through unescaped fails here, whoever adds it.
    #[test]
    fn only_markup_and_rendered_fragments_skip_escaping() {
        const MARKUP: [&str; 6] = ["open", "close", "dots", "drag", "swatch", "mini_rows"];
        const RENDERED: [&str; 2] = ["cached_fragment_html", "free_busy_html"];
        let mut seen = 0;
        for file in super::TemplateFiles::iter() {
            let source =
                String::from_utf8(super::TemplateFiles::get(&file).unwrap().data.into_owned()).unwrap();
            for (at, _) in source.match_indices("safe") {
                let Some(open) = source[..at].rfind("{{") else { continue };
                let expression = &source[open + 2..at];
                let Some(variable) = expression.trim().strip_suffix('|') else { continue };
                let name = variable.trim().rsplit('.').next().unwrap_or_default();
                assert!(
                    MARKUP.contains(&name) || RENDERED.contains(&name),
                    "{file}: `{{{{{expression}safe }}}}` prints something that is not Markup"
                );
                seen += 1;
            }
        }
        assert!(seen > 20, "the scan found the templates' `| safe`s ({seen})");
    }

    #[test]
    fn escapes_everything_that_can_break_out() {
        assert_eq!(
            super::escape_html(r#"<a href="x" onclick='y'>&/"#),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;/"
        );
    }
}
