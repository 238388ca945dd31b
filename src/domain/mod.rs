//! Value types with invariants: numbers, roles, directions, dates. No IO lives here; every type
//! is parsed once at the edge and trusted afterwards.

pub mod audit;
pub mod calendar;
pub mod case_number;
pub mod case_status;
pub mod deadline;
pub mod document;
pub mod email;
pub mod file_format;
pub mod holidays;
pub mod organisation;
pub mod protocol;
pub mod search;
