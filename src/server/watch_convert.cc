#include "server/watch_convert.h"

#include "base/assert.h"
#include "server/convert.h"

namespace synod::server {
namespace {

void EventToProto(const mvcc::Event& e, bool prev_kv, mvccpb::Event* out) {
  out->set_type(e.type == mvcc::EventType::kPut ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  ToProto(e.kv, out->mutable_kv());
  if (prev_kv && e.prev_kv) ToProto(*e.prev_kv, out->mutable_prev_kv());
}

// The response with everything but its events.
etcdserverpb::WatchResponse Shell(const WatchEvents& r, const WatchHeaderFields& h) {
  etcdserverpb::WatchResponse out;
  etcdserverpb::ResponseHeader* header = out.mutable_header();
  header->set_cluster_id(h.cluster_id);
  header->set_member_id(h.member_id);
  header->set_revision(r.revision);
  header->set_raft_term(h.raft_term);
  out.set_watch_id(r.watch_id);
  out.set_created(r.created);
  out.set_canceled(r.canceled);
  out.set_compact_revision(r.compact_revision);
  out.set_cancel_reason(r.cancel_reason);
  return out;
}

}  // namespace

WatchCreate FromProto(const etcdserverpb::WatchCreateRequest& r) {
  WatchCreate c;
  c.key = r.key();
  c.range_end = r.range_end();
  c.start_revision = r.start_revision();
  c.progress_notify = r.progress_notify();
  for (int f : r.filters()) {
    if (f == etcdserverpb::WatchCreateRequest::NOPUT) c.no_put = true;
    if (f == etcdserverpb::WatchCreateRequest::NODELETE) c.no_delete = true;
  }
  c.prev_kv = r.prev_kv();
  c.watch_id = r.watch_id();
  c.fragment = r.fragment();
  return c;
}

std::vector<etcdserverpb::WatchResponse> ToWire(const WatchEvents& r,
                                                const WatchHeaderFields& header,
                                                size_t fragment_bytes_max) {
  std::vector<etcdserverpb::WatchResponse> out;
  out.push_back(Shell(r, header));
  size_t total = out.back().ByteSizeLong();
  std::vector<mvccpb::Event> events(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i) {
    EventToProto(*r.events[i], r.prev_kv, &events[i]);
    total += events[i].ByteSizeLong() + 8;  // + field tag and length, generously
  }
  const bool split = r.fragment && r.events.size() > 1 && total >= fragment_bytes_max;
  if (!split) {
    for (mvccpb::Event& e : events) *out.back().add_events() = std::move(e);
    return out;
  }
  const size_t shell_bytes = out.back().ByteSizeLong() + 8;  // + the fragment flag
  size_t bytes = shell_bytes;
  for (mvccpb::Event& e : events) {
    const size_t event_bytes = e.ByteSizeLong() + 8;
    // A piece holds at least one event; the next event opens a new piece if it would reach
    // the limit.
    if (out.back().events_size() > 0 && bytes + event_bytes >= fragment_bytes_max) {
      out.back().set_fragment(true);
      out.push_back(Shell(r, header));
      bytes = shell_bytes;
    }
    bytes += event_bytes;
    *out.back().add_events() = std::move(e);
  }
  SYNOD_ASSERT(!out.back().fragment(), "the last piece ends the revision");
  return out;
}

}  // namespace synod::server
