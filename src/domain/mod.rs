//! What Eventide is about, apart from how it is stored or shown: the types every feature and
//! the store share.

pub mod color;
