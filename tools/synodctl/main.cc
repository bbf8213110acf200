// synodctl: synod's operator tool for what runs without a server. Today one command:
//
//   synodctl snapshot restore FILE [--data-dir DIR] [--name NAME]
//
// builds a member's data dir from a backup taken with `etcdctl snapshot save` (or any client
// of Maintenance.Snapshot) against synod: it checks the backup's SHA-256 and checksum and
// unpacks the key space into DIR/kv, which forgets the Raft log it came from. Start a new
// cluster on the restored dirs (every member restored from the same file, --initial-cluster-
// state new): it serves the backup's keys at their revisions, with their leases. etcdctl's
// membership flags (--initial-cluster, --initial-cluster-token,
// --initial-advertise-peer-urls) are accepted for scripts written for etcdctl and not needed:
// synod takes the membership from its own flags when the new cluster first starts.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "server/backup.h"

int main(int argc, char** argv) {
  CLI::App app{"synodctl: synod's offline operator tool"};
  app.require_subcommand(1);
  CLI::App* snapshot = app.add_subcommand("snapshot", "backups of the key space");
  snapshot->require_subcommand(1);
  CLI::App* restore =
      snapshot->add_subcommand("restore", "build a data dir from a backup file for a new cluster");
  std::string file;
  std::string data_dir;
  std::string name = "default";
  std::string ignored;
  restore->add_option("file", file, "the backup (etcdctl snapshot save)")->required();
  restore->add_option("--data-dir", data_dir, "the new member's data dir (default <name>.etcd)");
  restore->add_option("--name", name, "the new member's name");
  for (const char* flag :
       {"--initial-cluster", "--initial-cluster-token", "--initial-advertise-peer-urls"}) {
    restore->add_option(flag, ignored, "accepted for etcdctl's scripts; synod's flags decide");
  }
  CLI11_PARSE(app, argc, argv);

  if (data_dir.empty()) data_dir = name + ".etcd";
  std::error_code ec;
  if (std::filesystem::exists(data_dir + "/wal", ec)) {
    std::fprintf(stderr, "Error: %s/wal exists: restore into a new data dir\n", data_dir.c_str());
    return 1;
  }
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "Error: cannot create %s: %s\n", data_dir.c_str(), ec.message().c_str());
    return 1;
  }
  const synod::Status s = synod::server::RestoreBackup(file, data_dir + "/kv");
  if (!s.ok()) {
    std::fprintf(stderr, "Error: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("restored %s into %s\n", file.c_str(), data_dir.c_str());
  return 0;
}
