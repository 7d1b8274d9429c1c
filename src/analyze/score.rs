use super::{Analysis, TermIndex};
use crate::knowledge::Catalogue;
pub(super) fn analyze(_catalogue: &Catalogue, _index: &TermIndex, _text: &str) -> Analysis {
    Analysis { on_topic: false, causes: Vec::new(), excluded: Vec::new(), red_flags: Vec::new() }
}
