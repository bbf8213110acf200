// Message builders and a field-by-field comparison shared by the transport tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"
#include "transport/snapshot_stream.h"

namespace synod::transport::test {

inline raft::Message MakeAppend(raft::NodeId from, raft::NodeId to, uint64_t seq,
                                size_t entries = 1, size_t entry_bytes = 16) {
  raft::Message m;
  m.group = raft::GroupId(1);
  m.type = raft::MessageType::kAppend;
  m.from = from;
  m.to = to;
  m.term = raft::Term(3);
  m.log_term = raft::Term(3);
  m.index = raft::LogIndex(seq);  // tests read the send order back from here
  m.commit = raft::LogIndex(seq);
  for (size_t i = 0; i < entries; ++i) {
    m.entries.push_back(raft::Entry{raft::Term(3), raft::LogIndex(seq + i + 1),
                                    raft::EntryType::kNormal,
                                    raft::Payload(std::string(entry_bytes, char('a' + i % 26)))});
  }
  return m;
}

inline raft::Message MakeSnapshot(raft::NodeId from, raft::NodeId to, size_t data_bytes) {
  raft::Message m;
  m.group = raft::GroupId(1);
  m.type = raft::MessageType::kSnapshot;
  m.from = from;
  m.to = to;
  m.term = raft::Term(5);
  raft::Snapshot s;
  s.metadata.index = raft::LogIndex(1000);
  s.metadata.term = raft::Term(4);
  s.metadata.conf_state.voters = {raft::NodeId(1), raft::NodeId(2), raft::NodeId(3)};
  std::string data(data_bytes, '\0');
  for (size_t i = 0; i < data_bytes; ++i) data[i] = static_cast<char>(i * 131 + 7);
  s.data = raft::Payload(std::move(data));
  m.snapshot = std::move(s);
  return m;
}

inline void ExpectSameMessage(const raft::Message& a, const raft::Message& b) {
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.reject_hint, b.reject_hint);
  EXPECT_EQ(a.snapshot, b.snapshot);
  EXPECT_EQ(a.transfer, b.transfer);
  EXPECT_EQ(a.context, b.context);
}

// Streamed snapshots in memory: the image a message carries inline is streamed from it, and
// a received one is rebuilt in a string, so a delivered message equals the one sent.
class MemorySource final : public SnapshotSource {
 public:
  explicit MemorySource(raft::Payload image) : image_(std::move(image)) {}
  uint64_t size() const override { return image_.size(); }
  Status ReadAt(uint64_t offset, std::span<char> out) override {
    std::copy_n(image_.view().data() + offset, out.size(), out.data());
    return Status::Ok();
  }

 private:
  raft::Payload image_;
};

class MemorySink final : public SnapshotSink {
 public:
  explicit MemorySink(uint64_t fail_at = UINT64_MAX) : fail_at_(fail_at) {}
  Status Append(std::string_view bytes) override {
    if (image_.size() + bytes.size() > fail_at_) return Status(ErrorCode::kIoError, "disk full");
    image_.append(bytes);
    return Status::Ok();
  }
  Result<std::string> Finish() override { return std::move(image_); }

 private:
  const uint64_t fail_at_;
  std::string image_;
};

}  // namespace synod::transport::test
