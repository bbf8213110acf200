#include "server/backup_stream.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "api/etcd_errors.h"
#include "api/grpc_status.h"
#include "server/backup.h"
#include "server/errors.h"
#include "server/log.h"
#include "server/serving_context.h"
#include "server/version.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

// Backups taken at the same time by this process get their own directories.
std::atomic<uint64_t> backup_sequence{0};

// Every step that reads files (the checkpoint, each chunk) runs on the executor; gRPC's
// threads only start the next one. At most one write or one executor step is in flight at a
// time, and Finish is called from one of them, so OnDone never overlaps a step.
class BackupStream final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  explicit BackupStream(ServingContext* ctx) : ctx_(ctx) {
    ctx_->Run([this] { Prepare(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
    if (sent_sha_) return Finish(grpc::Status::OK);
    ctx_->Run([this] { SendNext(); });
  }

  void OnDone() override {
    reader_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    ctx_->Release();
    delete this;
  }

 private:
  void Prepare() {
    dir_ = ctx_->kv().backups_dir() + "/" + std::to_string(++backup_sequence);
    std::error_code ec;
    fs::create_directories(ctx_->kv().backups_dir(), ec);
    fs::remove_all(dir_, ec);
    auto info = ctx_->kv().Checkpoint(dir_);
    if (!info.ok()) return Fail(info.status());
    revision_ = info.value().revision;
    auto reader = BackupReader::Open(dir_);
    if (!reader.ok()) return Fail(reader.status());
    reader_ = std::move(reader.value());
    Log(LogLevel::kInfo, "maintenance",
        "streaming a backup of " + std::to_string(reader_->image_bytes()) + " bytes at revision " +
            std::to_string(revision_));
    SendNext();
  }

  void SendNext() {
    if (ctx_->stopping()) return Fail(Status(ErrorCode::kUnavailable, "stopping"));
    response_.Clear();
    if (first_) {
      etcdserverpb::ResponseHeader* h = response_.mutable_header();
      h->set_cluster_id(ctx_->cluster_id());
      h->set_member_id(ctx_->member_id());
      h->set_revision(revision_);
      h->set_raft_term(ctx_->node().Info().term.value);
      response_.set_version(kVersion);
      first_ = false;
    }
    if (!reader_->done()) {
      auto chunk = reader_->Next(kBackupChunkBytes);
      if (!chunk.ok()) return Fail(chunk.status());
      response_.set_blob(std::move(chunk.value()));
      response_.set_remaining_bytes(reader_->image_bytes() - reader_->produced_bytes());
    } else {
      response_.set_blob(reader_->Sha256());
      response_.set_remaining_bytes(0);
      sent_sha_ = true;
    }
    StartWrite(&response_);
  }

  void Fail(const Status& s) { Finish(api::ToGrpcStatus(ToWireStatus(s, ctx_->stopping()))); }

  ServingContext* const ctx_;
  std::string dir_;
  std::unique_ptr<BackupReader> reader_;
  int64_t revision_ = 0;
  bool first_ = true;
  bool sent_sha_ = false;
  etcdserverpb::SnapshotResponse response_;
};

// A reactor that only answers with an error.
class RefusedStream final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  explicit RefusedStream(api::EtcdError e) { Finish(api::ToGrpcStatus(e)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* NewBackupStream(
    ServingContext* ctx, grpc::CallbackServerContext* /*call*/) {
  if (ctx->stopping()) return new RefusedStream(api::EtcdError::kStopped);
  if (!ctx->Admit()) return new RefusedStream(api::EtcdError::kTooManyRequests);
  return new BackupStream(ctx);
}

}  // namespace synod::server
