// meta/v1 definitions shared by every kind (format: schema.h).
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {

std::string_view SchemaTextMeta() {
  return R"(
package io.k8s.apimachinery.pkg.apis.meta.v1
ObjectMeta: Metadata every persisted object has: name, namespace, labels, ownership and bookkeeping set by the server.
  name string Name of the object, unique within its namespace (or the cluster for cluster-scoped kinds). Cannot be updated.
  generateName string Prefix for a server-generated name, used when name is empty; a random suffix is appended.
  namespace string Namespace the object lives in; empty for cluster-scoped kinds. Cannot be updated.
  selfLink string Deprecated and always empty.
  uid string Unique id the server assigns at creation. Read-only.
  resourceVersion string Opaque version of this object, changed by every write; sent back for optimistic concurrency.
  generation int64 Sequence number of changes to the desired state (spec). Set by the server.
  creationTimestamp Time When the server created the object (RFC 3339, UTC). Read-only.
  deletionTimestamp Time When the object will be deleted; set when a graceful deletion is requested. Read-only.
  deletionGracePeriodSeconds int64 Seconds allowed for graceful termination before the object is removed. Read-only.
  labels map[]string Key/value pairs used to organise and select objects.
  annotations map[]string Unstructured key/value data kept with the object; not used for selection.
  ownerReferences []OwnerReference @merge=uid Objects this one depends on; when all owners are gone it is garbage collected.
  finalizers []string @merge= @list=set Conditions that must be cleared before the object is deleted.
  managedFields []ManagedFieldsEntry Which field manager owns which fields (server-side apply). Maintained by the server.
OwnerReference: Identifies an owning object, which must be in the same namespace or cluster-scoped.
  apiVersion string! API version of the owner.
  kind string! Kind of the owner.
  name string! Name of the owner.
  uid string! UID of the owner.
  controller boolean True when this owner is the managing controller.
  blockOwnerDeletion boolean When true, the owner cannot be deleted (foreground) until this reference is removed.
ManagedFieldsEntry: The fields one manager owns, and the last operation it made.
  manager string Name of the field manager.
  operation string Apply or Update.
  apiVersion string Version of the schema the field set is written against.
  time Time When the manager last changed these fields.
  fieldsType string Format of the field set; always FieldsV1.
  fieldsV1 object The field set, as a tree of f:<field>, k:<key>, v:<value> and i:<index> entries.
  subresource string Subresource the write went through, empty for the main resource.
ListMeta: Metadata of a list response.
  selfLink string Deprecated and always empty.
  resourceVersion string Version of the store the list was read at; a watch from it sees every later change.
  continue string Token for the next page when the list was limited; empty on the last page.
  remainingItemCount int64 How many items remain after this page, when known.
LabelSelector: A query over labels; matchLabels and matchExpressions are ANDed. Empty matches everything.
  matchLabels map[]string Labels that must all be present with these values.
  matchExpressions []LabelSelectorRequirement Requirements that must all hold.
LabelSelectorRequirement: One selector requirement: a key, an operator and values.
  key string! The label key.
  operator string! In, NotIn, Exists or DoesNotExist.
  values []string Values for In and NotIn; empty for Exists and DoesNotExist.
Condition: One aspect of an object's current state.
  type string! Condition type in CamelCase.
  status string! True, False or Unknown.
  observedGeneration int64 metadata.generation the condition was computed from.
  lastTransitionTime Time! When the status last changed.
  reason string! Machine-readable CamelCase reason for the last transition.
  message string! Human-readable details.
)";
}

}  // namespace berth::k8s::kinds
