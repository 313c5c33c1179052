//! Static assets, embedded in the binary and served under content-hashed URLs, so browsers
//! may cache them forever: a changed file gets a new URL.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use rocket::http::{ContentType, Header};
use rocket::Responder;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct AssetFiles;

struct AssetIndex {
    /// logical name ("app.css") -> URL ("/assets/app.1a2b3c4d5e6f.css")
    urls: HashMap<String, String>,
    /// hashed name ("app.1a2b3c4d5e6f.css") -> logical name
    files: HashMap<String, String>,
}

fn index() -> &'static AssetIndex {
    static INDEX: OnceLock<AssetIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut urls = HashMap::new();
        let mut files = HashMap::new();
        for name in AssetFiles::iter() {
            let Some(file) = AssetFiles::get(&name) else {
                continue;
            };
            let hash = hex::encode(&file.metadata.sha256_hash()[..6]);
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            urls.insert(name.to_string(), format!("/assets/{hashed}"));
            files.insert(hashed, name.to_string());
        }
        AssetIndex { urls, files }
    })
}

/// The URL templates use for an asset; `None` for a name that is not embedded.
pub fn url(name: &str) -> Option<&'static str> {
    index().urls.get(name).map(String::as_str)
}

#[derive(Responder)]
pub struct Asset {
    body: Cow<'static, [u8]>,
    content_type: ContentType,
    cache_control: Header<'static>,
}

/// Only the hashed names resolve: an unhashed or outdated URL is a 404, never a stale file
/// cached for a year.
#[rocket::get("/assets/<path..>")]
pub fn serve(path: PathBuf) -> Option<Asset> {
    let requested = path.to_str()?.replace('\\', "/");
    let logical = index().files.get(&requested)?;
    let file = AssetFiles::get(logical)?;
    let content_type = requested
        .rsplit_once('.')
        .and_then(|(_, ext)| ContentType::from_extension(ext))
        .unwrap_or(ContentType::Binary);
    Some(Asset {
        body: file.data,
        content_type,
        cache_control: Header::new("Cache-Control", "public, max-age=31536000, immutable"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_embedded_asset_has_a_hashed_url() {
        let css = super::url("app.css").expect("app.css is embedded");
        assert!(css.starts_with("/assets/app.") && css.ends_with(".css") && css.len() > 20);
        assert!(super::url("missing.css").is_none());
    }
}
