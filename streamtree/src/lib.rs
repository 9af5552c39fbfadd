//! # streamtree
//!
//! Data apps the way Streamlit users write them, with Rust's types and speed. An app is a
//! function that returns an [`Element`] tree; every rerun evaluates it again; a
//! [`Session`] keeps what must survive between reruns.
//!
//! ```
//! use streamtree::prelude::*;
//!
//! #[component]
//! fn Greeting(name: String) -> Element {
//!     Text(format!("Hello, {name}!"))
//! }
//!
//! let app = || Page([Greeting("Grace".to_string()), Markdown("*welcome*")]).title("Hi");
//! let mut test = AppTest::new(app);
//! assert_eq!(test.run().text(), "Page \"Hi\"\n  Hello, Grace!\n  welcome\n");
//!
//! // The same tree with `view!`, which adds `for`, `if`, `match` and `match_task`:
//! let app = || {
//!     let names = ["Grace"];
//!     view! {
//!         Page {
//!             for name in names { Greeting(name.to_string()) }
//!             if names.len() > 1 { "a crowd" } else { Markdown("*welcome*") }
//!         }.title("Hi")
//!     }
//! };
//! assert_eq!(AppTest::new(app).run().text(), "Page \"Hi\"\n  Hello, Grace!\n  welcome\n");
//! ```
//!
//! Only a rerun ([`Session::rerun`], [`AppTest`](testing::AppTest), a live runner) runs
//! component bodies; it returns a [`Resolved`] tree, and the renderers only read trees.
//! Apps with background tasks are tested without races as the [`testing`] module's
//! "Race-free app tests" section shows (gates, one worker, waiting on task changes).
//!
//! Modules: [`elements`] (constructors), [`session`] (reruns and state), [`render`]
//! (HTML and text backends), [`testing`] (`AppTest`), the task runtime ([`Runtime`])
//! and its API ([`asyncio`]), typed jobs and their backends ([`jobs`]; feature `persist`
//! keeps finished job results across restarts). With the `serve` feature, `streamtree::serve(app)` runs an
//! app as a live web page (`live::serve`).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod asyncio;
mod element;
pub mod elements;
pub mod jobs;
pub mod live;
pub mod loading;
pub mod render;
mod runtime;
pub mod session;
pub mod testing;
mod tree;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod worker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use element::{Element, Str};
pub use runtime::{Runtime, RuntimeBuilder, Subscription};
pub use session::input as inputs;
pub use session::{ClickError, Resolved, Session, SessionBuilder, WeakSession};
pub use streamtree_macros::{component, view};
pub use testing::{render_html, render_html_document, render_text};
pub use tree::{TreeNode, render_to_tree};

#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub use live::serve::{Running, Server, serve};

/// Everything an app file usually needs: `use streamtree::prelude::*;`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let _: Element = VStack([Text("a"), Markdown("b"), Divider()]);
/// ```
pub mod prelude {
    pub use crate::asyncio::{
        Cancelled, Progress, Retry, TaskBuilder, TaskContext, TaskHandle, TaskStatus, cancel_task,
        complete_cancelled, dismiss_task, dismiss_tasks, is_task_cancel_requested, refresh_task,
        set_task_progress, submit, submit_fallible, submit_fallible_with, submit_many, submit_with,
        summarize_async_tasks, task,
    };
    pub use crate::component;
    pub use crate::element::Element;
    pub use crate::elements::*;
    pub use crate::loading::{match_task, match_task_many, submit_many_ordered};
    pub use crate::session::input::{
        Checkbox, InputError, InputHandle, NumberInput, Select, Slider, TextInput,
    };
    pub use crate::session::{Session, State, session_state, state};
    pub use crate::testing::{AppTest, render_html, render_html_document, render_text};
    pub use crate::view;
}

/// The README's example compiles (checked as a doctest).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctest;
