//! How a generator hands its files on: all at once, or, for an artefact that
//! grows with the registry, a part at a time as the parts are rendered.

use crate::error::{Failure, RenderError};
use crate::output::Output;
use crate::parallel::par_map;
use crate::plan::Plan;
use crate::templates::Renderer;

/// Where a generator hands its files as they are rendered: all at once, or a
/// large artefact (a rule file and its tests per team) a few at a time.
pub type Emit<'e> = dyn FnMut(Vec<Output>) -> Result<(), Failure> + 'e;

/// A generator: renders the files of one artefact into `Emit`.
pub type Generator = fn(&Renderer, &Plan, &mut Emit) -> Result<(), Failure>;

/// How many rule files (with their tests) are rendered before they are
/// handed on: enough to keep every core busy.
const PART: usize = 16;

/// Renders `items` a part at a time on all cores, handing each part's files
/// on before the next: a team's rule file and tests per item.
pub(crate) fn par_emit<T: Sync>(
    items: &[T],
    emit: &mut Emit,
    f: impl Fn(&T) -> Result<[Output; 2], RenderError> + Sync,
) -> Result<(), Failure> {
    for part in items.chunks(PART) {
        emit(par_map(part, &f)?.into_iter().flatten().collect())?;
    }
    Ok(())
}
