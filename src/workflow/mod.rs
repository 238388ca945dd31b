//! Workflows as data: the YAML format ([`definition`]), its validation into a model that cannot
//! hold a broken graph ([`model`]), the folder of workflows ([`catalog`]), and the pure engine
//! that decides what an event does ([`engine`]), and its drawings ([`graph`] as text for other
//! tools, [`picture`] as an SVG of our own). Nothing here does IO except reading the folder,
//! and nothing reads the clock: `now` is always passed in.

pub mod catalog;
pub mod definition;
pub mod duration;
pub mod engine;
pub mod graph;
pub mod model;
pub mod picture;

pub use catalog::Catalog;
pub use engine::{
    ChildView, Decision, Effect, Event, InstanceView, TimerPlan, TransitionError, apply, start,
};
pub use model::{Problem, Sender, Workflow};
