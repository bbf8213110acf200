// Streamed snapshots: a kSnapshot message's image travels after the message as a run of
// chunks, read from wherever the sender keeps it (SnapshotSource) and written to wherever the
// receiver keeps it (SnapshotSink). Neither side holds a whole image in memory, no frame is
// larger than a chunk, and the sender's other messages (heartbeats above all) go out between
// chunks, so a follower receiving a large image does not time out and start an election.
//
// The owner of a Transport supplies both ends through TransportCallbacks; without them an
// image travels inline, inside its message, in one frame (README "Streamed snapshots").
// SnapshotSender and SnapshotReceiver hold the state of one image in each direction and do no
// I/O of their own, so the chunking and its checks are tested without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "raft/types.h"

namespace synod::transport {

class BatchEncoder;
struct SnapshotChunkView;

// Where an image being sent is read from.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` with the image's bytes from `offset`. REQUIRES: offset + out.size() <= size().
  virtual Status ReadAt(uint64_t offset, std::span<char> out) = 0;
};

// Where an image being received is written to.
class SnapshotSink {
 public:
  // Destroyed without a successful Finish: discards what was written.
  virtual ~SnapshotSink() = default;
  // The image's next bytes, in order.
  virtual Status Append(std::string_view bytes) = 0;
  // Called once every byte arrived and the image's checksum matched: makes the image durable
  // and returns what the delivered message's snapshot data becomes (for instance a
  // descriptor naming the file that holds the image).
  virtual Result<std::string> Finish() = 0;
};

// Opens the image of kSnapshot message `m` for sending, or returns nullptr when `m` carries its
// image inline (it then goes in one frame as before). Called on the io thread.
using OpenSnapshotSource =
    std::function<Result<std::unique_ptr<SnapshotSource>>(const raft::Message& m)>;
// Opens a place for the `bytes`-long image of kSnapshot message `m` (whose data is empty).
// Called on the io thread.
using OpenSnapshotSink =
    std::function<Result<std::unique_ptr<SnapshotSink>>(const raft::Message& m, uint64_t bytes)>;

// The sending side of one image: its announcing frame, then one chunk frame per call.
class SnapshotSender {
 public:
  // REQUIRES: source->size() > 0, chunk_bytes > 0.
  SnapshotSender(raft::Message m, std::unique_ptr<SnapshotSource> source, size_t chunk_bytes);

  const raft::Message& message() const { return message_; }
  uint64_t size() const { return size_; }
  uint64_t sent() const { return offset_; }
  bool done() const { return done_; }

  // The frame holding the message, which announces the image's size.
  void AppendHeader(BatchEncoder& encoder, std::string* out);
  // The next chunk's frame; the last one carries the image's CRC32C. A read error leaves the
  // image unfinished: the caller must close the connection so the receiver discards it.
  // REQUIRES: !done().
  Status AppendNextChunk(BatchEncoder& encoder, std::string* out);

 private:
  raft::Message message_;
  std::unique_ptr<SnapshotSource> source_;
  const size_t chunk_bytes_;
  const uint64_t size_;
  uint64_t offset_ = 0;
  uint32_t crc_ = 0;
  bool done_ = false;
  std::string scratch_;  // one chunk, reused
};

// The receiving side of one image.
class SnapshotReceiver {
 public:
  // `sink` may be null: the image is then read and thrown away, and the message is not
  // delivered (the sender's Raft sends a snapshot again later).
  SnapshotReceiver(raft::Message m, uint64_t bytes, std::unique_ptr<SnapshotSink> sink);

  // Takes the next chunk. kCorruption when the sender broke the protocol: a chunk out of
  // order or beyond the announced size, a last chunk short of it or with the wrong checksum;
  // the connection must then close. A sink that fails is dropped, the rest of the image
  // discarded, and the failure returned by Finish.
  Status Add(const SnapshotChunkView& chunk);
  bool done() const { return done_; }
  uint64_t received() const { return received_; }

  // After done(): the message to deliver, its snapshot data what the sink's Finish returned;
  // or why there is none.
  Result<raft::Message> Finish();

 private:
  raft::Message message_;
  const uint64_t size_;
  std::unique_ptr<SnapshotSink> sink_;
  Status sink_status_;
  uint64_t received_ = 0;
  uint32_t crc_ = 0;
  bool done_ = false;
};

}  // namespace synod::transport
