//! Conformance scenarios (filled in by the conformance issue).
