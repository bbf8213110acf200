#include "transport/snapshot_stream.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/crc32c.h"
#include "transport/codec.h"

namespace synod::transport {

SnapshotSender::SnapshotSender(raft::Message m, std::unique_ptr<SnapshotSource> source,
                               size_t chunk_bytes)
    : message_(std::move(m)),
      source_(std::move(source)),
      chunk_bytes_(chunk_bytes),
      size_(source_->size()) {
  SYNOD_ASSERT(size_ > 0 && chunk_bytes_ > 0, "a streamed image and its chunks are not empty");
  // The image goes in the chunks: the message keeps only what describes it.
  if (message_.snapshot) message_.snapshot->data = raft::Payload();
}

void SnapshotSender::AppendHeader(BatchEncoder& encoder, std::string* out) {
  encoder.AppendStreamedSnapshot(message_, size_, out);
}

Status SnapshotSender::AppendNextChunk(BatchEncoder& encoder, std::string* out) {
  SYNOD_ASSERT(!done_, "every chunk was sent");
  const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, size_ - offset_));
  scratch_.resize(n);
  Status s = source_->ReadAt(offset_, std::span<char>(scratch_.data(), n));
  if (!s.ok()) return s;
  crc_ = Crc32c(crc_, scratch_.data(), n);
  const bool last = offset_ + n == size_;
  encoder.AppendChunk(SnapshotChunkView{offset_, scratch_, last, last ? crc_ : 0}, out);
  offset_ += n;
  done_ = last;
  return Status::Ok();
}

SnapshotReceiver::SnapshotReceiver(raft::Message m, uint64_t bytes,
                                   std::unique_ptr<SnapshotSink> sink)
    : message_(std::move(m)), size_(bytes), sink_(std::move(sink)) {
  if (sink_ == nullptr) sink_status_ = Status(ErrorCode::kUnavailable, "no place to keep it");
}

Status SnapshotReceiver::Add(const SnapshotChunkView& chunk) {
  auto broken = [](const std::string& why) {
    return Status(ErrorCode::kCorruption, "streamed snapshot: " + why);
  };
  if (done_) return broken("a chunk after the last one");
  if (chunk.offset != received_) {
    return broken("chunk at offset " + std::to_string(chunk.offset) + ", expected " +
                  std::to_string(received_));
  }
  if (chunk.data.size() > size_ - received_) {
    return broken("chunks beyond the announced " + std::to_string(size_) + " bytes");
  }
  if (chunk.data.empty() && !chunk.last) return broken("an empty chunk");
  received_ += chunk.data.size();
  crc_ = Crc32c(crc_, chunk.data.data(), chunk.data.size());
  if (sink_ != nullptr) {
    sink_status_ = sink_->Append(chunk.data);
    if (!sink_status_.ok()) sink_.reset();  // the rest is read and thrown away
  }
  if (!chunk.last) return Status::Ok();
  if (received_ != size_) {
    return broken("last chunk at " + std::to_string(received_) + " of " + std::to_string(size_) +
                  " bytes");
  }
  if (chunk.image_crc32c != crc_) return broken("image checksum mismatch");
  done_ = true;
  return Status::Ok();
}

Result<raft::Message> SnapshotReceiver::Finish() {
  SYNOD_ASSERT(done_, "the image is not complete");
  if (sink_ == nullptr) return sink_status_;
  auto data = sink_->Finish();
  sink_.reset();
  if (!data.ok()) return data.status();
  message_.snapshot->data = raft::Payload(std::move(data.value()));
  return std::move(message_);
}

}  // namespace synod::transport
