//! A device's copy of the dreams as the service last confirmed them.
//!
//! This is the rule the extension's library follows when it applies events (here in memory,
//! for tests and simulations): an event older than what the device has is ignored, so a
//! replay after a crash changes nothing, and a tombstone is kept so a late update cannot
//! bring a deleted dream back. The revision it holds is the base revision of the device's
//! next change to that dream.

use std::collections::BTreeMap;

use dreamcatcher_model::Dream;
use serde::{Deserialize, Serialize};

use crate::operation::Revision;
use crate::protocol::ServerEvent;

/// One dream as the device has it from the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaDream {
    pub revision: Revision,
    /// `None` once deleted (a tombstone).
    pub dream: Option<Dream>,
    /// For a conflict copy: the dream it was copied from.
    pub conflict_of: Option<String>,
    /// The last `project_created` project for this dream, as PipelineOS sent it.
    pub project: Option<serde_json::Value>,
    /// The last `implementation_completed` result for this dream.
    pub implementation: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    dreams: BTreeMap<String, ReplicaDream>,
}

impl Replica {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event; returns whether anything changed.
    pub fn apply(&mut self, event: &ServerEvent) -> bool {
        match event {
            ServerEvent::DreamUpdated {
                dream,
                revision,
                conflict_of,
            } => {
                let entry = self.entry(dream.id());
                if *revision <= entry.revision {
                    return false;
                }
                entry.revision = *revision;
                entry.dream = Some((**dream).clone());
                entry.conflict_of.clone_from(conflict_of);
                true
            }
            ServerEvent::DreamDeleted { dream_id, revision } => {
                let entry = self.entry(dream_id);
                if *revision <= entry.revision {
                    return false;
                }
                entry.revision = *revision;
                entry.dream = None;
                true
            }
            ServerEvent::ProjectCreated { dream_id, project } => {
                let entry = self.entry(dream_id);
                let changed = entry.project.as_ref() != Some(project);
                entry.project = Some(project.clone());
                changed
            }
            ServerEvent::ImplementationCompleted { dream_id, result } => {
                let entry = self.entry(dream_id);
                let changed = entry.implementation.as_ref() != Some(result);
                entry.implementation = Some(result.clone());
                changed
            }
        }
    }

    /// The base revision for this device's next change to the dream (0 if never received).
    pub fn revision(&self, dream_id: &str) -> Revision {
        self.dreams.get(dream_id).map_or(0, |entry| entry.revision)
    }

    /// The dream, unless it is unknown or deleted.
    pub fn dream(&self, dream_id: &str) -> Option<&Dream> {
        self.dreams
            .get(dream_id)
            .and_then(|entry| entry.dream.as_ref())
    }

    pub fn get(&self, dream_id: &str) -> Option<&ReplicaDream> {
        self.dreams.get(dream_id)
    }

    /// Every dream the device knows, tombstones included, by id.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &ReplicaDream)> {
        self.dreams.iter().map(|(id, entry)| (id.as_str(), entry))
    }

    /// The dreams that are not deleted.
    pub fn live_dreams(&self) -> impl Iterator<Item = &Dream> {
        self.dreams
            .values()
            .filter_map(|entry| entry.dream.as_ref())
    }

    fn entry(&mut self, dream_id: &str) -> &mut ReplicaDream {
        self.dreams
            .entry(dream_id.to_string())
            .or_insert_with(|| ReplicaDream {
                revision: 0,
                dream: None,
                conflict_of: None,
                project: None,
                implementation: None,
            })
    }
}
