#include "transport/peer_queue.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace synod::transport {
namespace {

// A generous estimate of a message's fixed fields on the wire (ids, terms, indexes, flags).
constexpr size_t kMessageHeaderBytes = 96;

}  // namespace

size_t MessageBytes(const raft::Message& m) {
  size_t bytes = kMessageHeaderBytes;
  for (const raft::Entry& e : m.entries) bytes += e.ByteSize();
  return bytes;
}

PeerQueue::PeerQueue(size_t msgs_max, size_t bytes_max)
    : msgs_max_(msgs_max), bytes_max_(bytes_max) {
  SYNOD_ASSERT(msgs_max > 0 && bytes_max > 0, "a peer queue must hold something");
}

bool PeerQueue::Push(raft::Message m, Clock::time_point due) {
  const bool snapshot = m.type == raft::MessageType::kSnapshot;
  const size_t bytes = MessageBytes(m);
  if (queue_.size() >= msgs_max_) return false;
  if (snapshot ? snapshots_ > 0 : bytes_ + bytes > bytes_max_) return false;
  // Order is kept by never letting a message become due before the one ahead of it.
  last_due_ = std::max(last_due_, due);
  queue_.push_back(Item{std::move(m), bytes, last_due_});
  bytes_ += bytes;
  snapshots_ += snapshot ? 1 : 0;
  return true;
}

void PeerQueue::PopFront(std::vector<raft::Message>* out) {
  Item& item = queue_.front();
  SYNOD_ASSERT(bytes_ >= item.bytes, "peer queue byte count underflow");
  bytes_ -= item.bytes;
  if (item.msg.type == raft::MessageType::kSnapshot) {
    SYNOD_ASSERT(snapshots_ > 0, "peer queue snapshot count underflow");
    --snapshots_;
  }
  out->push_back(std::move(item.msg));
  queue_.pop_front();
}

std::optional<Clock::time_point> PeerQueue::TakeDue(Clock::time_point now,
                                                    std::vector<raft::Message>* out) {
  while (!queue_.empty() && queue_.front().due <= now) PopFront(out);
  if (queue_.empty()) {
    SYNOD_ASSERT(bytes_ == 0 && snapshots_ == 0, "empty peer queue with accounted bytes");
    return std::nullopt;
  }
  return queue_.front().due;
}

std::vector<raft::Message> PeerQueue::TakeAll() {
  std::vector<raft::Message> out;
  out.reserve(queue_.size());
  while (!queue_.empty()) PopFront(&out);
  SYNOD_ASSERT(bytes_ == 0 && snapshots_ == 0, "drained peer queue with accounted bytes");
  return out;
}

}  // namespace synod::transport
