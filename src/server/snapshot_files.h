// Snapshot images as files, so that the Raft snapshot (which the node writes into one WAL
// record, 8 MiB at most) carries only a small descriptor naming one:
//   "synod-snapshot-file 1\n" | file name | "\n" | image size in bytes | "\n"
// The files live in one folder (KvMachine: `<kv dir>.snapshots`), named `<index>.img` when
// this member took the snapshot and `recv-<index>.img` when a leader sent it. The image inside
// carries its own checksum (snapshot_image.h), so a damaged file is caught when it is unpacked.
//
// Retention (PruneSnapshotFiles): the WAL's latest snapshot record names the newest file at or
// below the applied index, or (after a crash between writing a file and saving its record) the
// one before it; files above the applied index are received images the node may still install.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/types.h"
#include "transport/snapshot_stream.h"

namespace synod::server {

inline constexpr std::string_view kSnapshotFileMagic = "synod-snapshot-file 1\n";

// Whether a Raft snapshot's data is a descriptor (rather than a whole image, as WAL records
// written before images moved to files hold).
bool IsSnapshotDescriptor(std::string_view data);

// The name of the file of the image at `index`; `received`: sent by a leader.
std::string SnapshotFileName(uint64_t index, bool received);

// Writes `image` to `dir`/`name` durably (temporary name, fsync, rename, fsync of `dir`, which
// is created if missing) and returns the descriptor naming it.
Result<std::string> WriteSnapshotFile(const std::string& dir, const std::string& name,
                                      std::string_view image);

// The same with the image produced by `write(temp_path)`, which creates, fills and fsyncs
// that file and returns its size (PackDirectoryToFile), so the image is never in memory.
Result<std::string> CreateSnapshotFile(
    const std::string& dir, const std::string& name,
    const std::function<Result<uint64_t>(const std::string& temp_path)>& write);

// The image a descriptor names, read from `dir`. Errors name the path.
Result<std::string> ReadSnapshotFile(const std::string& dir, std::string_view descriptor);
// The path of the file a descriptor names in `dir`, checked to hold the size it says.
Result<std::string> SnapshotFilePath(const std::string& dir, std::string_view descriptor);

// Removes the image files of `dir` except those above `applied` and the two newest at or
// below it. Returns the number of files removed.
Result<size_t> PruneSnapshotFiles(const std::string& dir, uint64_t applied);
// Removes the temporary files a crash left in `dir` (only when nothing writes there).
Status RemoveSnapshotTempFiles(const std::string& dir);

// Told of a kSnapshot message dropped: to (sending) or from (receiving) whom, and why.
using SnapshotDropped = std::function<void(raft::NodeId peer, const Status& why)>;

// Streaming (transport/snapshot_stream.h). Sending: the file in `dir` a snapshot's data names,
// or nullptr when the data is not a descriptor (an inline image, such as the empty bootstrap
// snapshot). Errors name the path.
Result<std::unique_ptr<transport::SnapshotSource>> OpenSnapshotFileSource(const std::string& dir,
                                                                          std::string_view data);
// Receiving: a temporary file in `dir` that Finish makes SnapshotFileName(index, true), durably,
// returning the descriptor naming it; dropped unfinished, the file is removed.
Result<std::unique_ptr<transport::SnapshotSink>> CreateSnapshotFileSink(const std::string& dir,
                                                                        uint64_t index);

// Receiving: each kSnapshot message holding a whole image inline has it written to a file in
// `dir` (SnapshotFileName(index, received)) and replaced by the descriptor naming it; one a
// sink streamed into that file already carries its descriptor and stays. A message whose image
// cannot be written, or whose descriptor names another file, is removed and `dropped` told.
void StoreSnapshotImages(const std::string& dir, std::vector<raft::Message>& messages,
                         const SnapshotDropped& dropped);

}  // namespace synod::server
