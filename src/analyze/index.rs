//! The term index (placeholder while the analyzer is written).
use crate::knowledge::Catalogue;
/// Lookup structures built once per catalogue.
#[derive(Debug, Default)]
pub struct TermIndex {}
impl TermIndex {
    /// Builds the index.
    pub fn build(_catalogue: &Catalogue) -> TermIndex { TermIndex {} }
}
