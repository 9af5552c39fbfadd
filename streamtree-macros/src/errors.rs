//! Validation errors, collected and combined so the user sees every mistake at once.

use quote::ToTokens;
use syn::Error;

/// Errors collected so far, combined into one.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn add<T: ErrorSpan>(&mut self, at: T, message: &str) {
        let err = at.error(message);
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Where an error can point: tokens (spanning all of them) or a single span.
pub(crate) trait ErrorSpan {
    fn error(self, message: &str) -> Error;
}

impl<T: ToTokens> ErrorSpan for &T {
    fn error(self, message: &str) -> Error {
        Error::new_spanned(self, message)
    }
}

impl ErrorSpan for proc_macro2::Span {
    fn error(self, message: &str) -> Error {
        Error::new(self, message)
    }
}
