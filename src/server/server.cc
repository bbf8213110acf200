#include "server/server.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>

#include "api/grpc_metrics.h"
#include "base/assert.h"
#include "node/node.h"
#include "server/cluster_service.h"
#include "server/executor.h"
#include "server/gossip_agent.h"
#include "server/peer_liveness.h"
#include "server/kv_machine.h"
#include "server/kv_service.h"
#include "server/lease_service.h"
#include "server/lease_ticker.h"
#include "server/lessor.h"
#include "server/lock_service.h"
#include "server/log.h"
#include "server/maintenance_service.h"
#include "server/member_registry.h"
#include "server/member_watcher.h"
#include "server/server_metrics.h"
#include "server/serving_context.h"
#include "server/snapshot_files.h"
#include "server/watch_hub.h"
#include "server/watch_service.h"
#include "storage/file.h"
#include "transport/transport.h"

namespace synod::server {
namespace {

constexpr size_t kWorkerThreads = 4;
// gRPC's own limit sits above --max-request-bytes so that the service, not gRPC, turns an
// oversized request away, with etcd's message (etcd sizes its limit the same way).
constexpr int64_t kGrpcHeadroomBytes = 512 * 1024;

bool HasWal(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(data_dir + "/wal", ec) &&
         !std::filesystem::is_empty(data_dir + "/wal", ec);
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(const ServerConfig& config) : config_(config) {}
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  const std::vector<std::string>& client_addresses() const { return client_addresses_; }

 private:
  Status OpenNode();
  Status StartPeers();
  Status StartGossip();
  Status StartClientApi();
  Status StartMetrics();
  void StartLessor();
  Status OpenMembers();
  void StartMemberWatcher();

  const ServerConfig config_;
  // First in, last out: the WAL and gRPC report into it until they are gone.
  std::unique_ptr<ServerMetrics> metrics_;
  // Read by scrapes and fed by the transport: after metrics_, before transport_.
  std::unique_ptr<PeerLiveness> peer_liveness_;
  // Before kv_ and node_: both call into it, the node until it has stopped.
  std::unique_ptr<Lessor> lessor_;
  std::unique_ptr<LeaseIdGenerator> lease_ids_;
  std::unique_ptr<WatchHub> watch_hub_;  // KvMachine reports to it: destroyed after kv_
  std::unique_ptr<MemberRegistry> members_;  // KvMachine applies to it, too
  std::unique_ptr<MemberWatcher> member_watcher_;
  std::atomic<bool> removed_{false};  // the node saw this member removed from the cluster
  std::unique_ptr<KvMachine> kv_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<GossipAgent> gossip_;
  std::unique_ptr<node::Node> node_;
  std::unique_ptr<LeaseTicker> lease_ticker_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<ServingContext> serving_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> grpc_;
  std::vector<std::string> client_addresses_;
  bool stopped_ = false;
};

Status Server::Impl::Start() {
  Status s = storage::CreateDirectories(config_.data_dir);
  if (!s.ok()) return s;
  const bool resuming = HasWal(config_.data_dir);
  const bool joining = !resuming && config_.initial_cluster_state == ClusterState::kExisting;
  Log(LogLevel::kInfo, "server",
      std::string(resuming ? "restarting" : (joining ? "joining as" : "bootstrapping")) +
          " member " + std::to_string(config_.member_id) + " of cluster " +
          std::to_string(config_.cluster_id) + " in " + config_.data_dir);

  metrics_ = std::make_unique<ServerMetrics>(config_.member_id);
  StartLessor();
  KvMachineOptions ko;
  ko.dir = config_.data_dir + "/kv";
  ko.store.txn_ops_max = config_.max_txn_ops;
  ko.snapshot_retry_entries = config_.snapshot_count;
  ko.log = [](std::string_view m) { Log(LogLevel::kInfo, "kv", m); };
  WatchHistory history;
  // Only the hub's worker reads history, and it starts once kv_ is open.
  history.read_events = [this](const mvcc::EventsRequest& r) {
    return kv_->Read([&](const mvcc::Store& store) { return store.ReadEvents(r); });
  };
  history.compact_revision = [this] {
    return kv_->Read([](const mvcc::Store& store) { return store.compact_revision(); });
  };
  watch_hub_ = std::make_unique<WatchHub>(WatchHubOptions{}, std::move(history));
  ko.observer = watch_hub_.get();
  ko.lessor = lessor_.get();
  if (s = OpenMembers(); !s.ok()) return s;
  ko.members = members_.get();
  auto kv = KvMachine::Open(ko);
  if (!kv.ok()) return kv.status();
  kv_ = std::move(kv.value());

  if (s = OpenNode(); !s.ok()) return s;
  if (s = StartPeers(); !s.ok()) return s;
  if (s = StartGossip(); !s.ok()) return s;
  LeaseTickerOptions lo;
  lo.interval = std::chrono::milliseconds(config_.heartbeat_interval_ms);
  lo.log = [](std::string_view m) { Log(LogLevel::kInfo, "lease", m); };
  lease_ticker_ = std::make_unique<LeaseTicker>(lo, lessor_.get(), node_.get());
  if (s = StartClientApi(); !s.ok()) return s;
  StartMemberWatcher();
  return StartMetrics();
}

// The member list starts as --initial-cluster (for a joining member too, until the leader's
// snapshot brings the real one); the file in the data dir wins once it exists.
Status Server::Impl::OpenMembers() {
  std::vector<MemberRecord> initial;
  for (const ClusterMember& m : config_.initial_cluster) {
    initial.push_back(MemberRecord{m.id, m.name, m.peer_urls, {}, false});
  }
  auto members = MemberRegistry::Open(config_.data_dir + "/members", std::move(initial));
  if (!members.ok()) return members.status();
  members_ = std::move(members.value());
  return Status::Ok();
}

void Server::Impl::StartMemberWatcher() {
  MemberWatcherOptions mo;
  // A few heartbeats: cheap (a copy of the node's state and of the list), and a new member's
  // name and client URLs reach everyone soon after a leader is known.
  mo.interval = std::chrono::milliseconds(2 * config_.heartbeat_interval_ms);
  mo.self_id = config_.member_id;
  mo.name = config_.name;
  mo.client_urls = config_.advertise_client_urls;
  mo.auto_promote_learners = config_.auto_promote_learners;
  mo.remove_peer = [t = transport_.get()](uint64_t id) { t->RemovePeer(raft::NodeId(id)); };
  mo.is_removed = [this] { return removed_.load(); };
  // As etcd: a removed member stops; SIGTERM takes the same orderly path as an operator's.
  mo.on_removed = [] { kill(getpid(), SIGTERM); };
  mo.log = [](std::string_view m) { Log(LogLevel::kInfo, "members", m); };
  member_watcher_ = std::make_unique<MemberWatcher>(std::move(mo), node_.get(), members_.get());
}

// Lease expiry is measured on this member's steady clock (lessor.h: clock assumptions).
void Server::Impl::StartLessor() {
  LessorOptions lo;
  // etcd's minimum TTL: 1.5 election timeouts, counted in whole heartbeats, rounded up to
  // seconds; a partitioned leader steps down (check-quorum) before it could expire a lease.
  const int64_t election_ticks = config_.election_timeout_ms / config_.heartbeat_interval_ms;
  const int64_t min_ttl_ms = (3 * election_ticks / 2) * config_.heartbeat_interval_ms;
  lo.ttl_seconds_min = std::max<int64_t>(1, (min_ttl_ms + 999) / 1000);
  lo.promotion_extension = std::chrono::milliseconds(config_.election_timeout_ms);
  const auto start = std::chrono::steady_clock::now();
  lessor_ = std::make_unique<Lessor>(lo, [start] {
    return std::chrono::duration_cast<LeaseTime>(std::chrono::steady_clock::now() - start);
  });
  const auto unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  lease_ids_ = std::make_unique<LeaseIdGenerator>(config_.member_id,
                                                  static_cast<uint64_t>(unix_seconds.count()));
}

Status Server::Impl::OpenNode() {
  transport::TransportOptions to;
  to.node_id = raft::NodeId(config_.member_id);
  to.cluster_token = config_.initial_cluster_token;
  transport::TransportCallbacks cb;
  const auto start = std::chrono::steady_clock::now();
  peer_liveness_ = std::make_unique<PeerLiveness>(
      RaftPeerPhiOptions(config_.heartbeat_interval_ms),
      [start] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
      },
      &metrics_->registry());
  // The node exists before the transport starts, and is stopped only after the transport.
  cb.on_message = [this](std::vector<raft::Message> m) {
    // A removed member may go on talking (it need not know yet): it is not heard any more.
    if (!m.empty() && members_->WasRemoved(m.front().from.value)) return;
    if (!m.empty()) peer_liveness_->Heard(m.front().from.value);
    // A snapshot's image goes to a file here (this connection's thread), so that the node
    // keeps and logs only the descriptor naming it (snapshot_files.h).
    StoreSnapshotImages(kv_->snapshots_dir(), m, [](raft::NodeId from, const Status& why) {
      Log(LogLevel::kWarn, "snapshot",
          "dropped the snapshot from " + std::to_string(from.value) + ": " + why.ToString());
    });
    if (!m.empty()) node_->Deliver(std::move(m));
  };
  // Snapshot images stream from and to files (snapshot_files.h), a chunk at a time, on the
  // transport's thread: the node's loop never reads or holds a whole image.
  cb.open_snapshot_source = [this](const raft::Message& m) {
    return OpenSnapshotFileSource(kv_->snapshots_dir(), m.snapshot->data.view());
  };
  cb.open_snapshot_sink = [this](const raft::Message& m, uint64_t) {
    return CreateSnapshotFileSink(kv_->snapshots_dir(), m.snapshot->metadata.index.value);
  };
  cb.on_unreachable = [this](raft::NodeId peer) { node_->ReportUnreachable(peer); };
  cb.on_snapshot_status = [this](raft::NodeId peer, bool ok) { node_->ReportSnapshot(peer, ok); };
  cb.on_log = [](std::string_view m) { Log(LogLevel::kInfo, "transport", m); };
  // A member this one's configuration does not list yet (added while this one was cut off or
  // behind) may lead already: without its address, every answer to it would be dropped and
  // this member could never catch up. Members removed for good stay unheard.
  to.advertise_address = config_.initial_advertise_peer_urls.front();
  cb.on_stranger = [this](raft::NodeId id, std::string address) {
    if (members_->WasRemoved(id.value)) return;
    Log(LogLevel::kInfo, "transport",
        "learned the address of node " + std::to_string(id.value) + ": " + address);
    (void)transport_->AddPeer(id, address);
  };
  transport_ = std::make_unique<transport::Transport>(to, std::move(cb));

  node::NodeOptions no;
  no.id = raft::NodeId(config_.member_id);
  no.data_dir = config_.data_dir;
  for (const ClusterMember& m : config_.initial_cluster) no.initial_voters.emplace_back(m.id);
  no.tick = std::chrono::milliseconds(config_.heartbeat_interval_ms);
  no.election_ticks = config_.election_timeout_ms / config_.heartbeat_interval_ms;
  no.snapshot_count = config_.snapshot_count;
  // The node starts a snapshot once applied - first log index reaches snapshot_count, and a
  // snapshot keeps snapshot_catchup_entries in the log: with a tail as long as the interval,
  // every Ready would snapshot. Half the interval at most keeps snapshots apart.
  no.snapshot_catchup_entries =
      std::min<uint64_t>(no.snapshot_catchup_entries, config_.snapshot_count / 2);
  // etcd's request timeout: enough for a leader change to finish before the client hears of
  // a failure.
  no.request_timeout = std::chrono::milliseconds(5000 + 2 * config_.election_timeout_ms);
  // The node's snapshots name image files, which the transport streams to the peer.
  no.send = [t = transport_.get()](std::vector<raft::Message> m) { t->Send(std::move(m)); };
  no.log = [](std::string_view m) { Log(LogLevel::kInfo, "raft", m); };
  no.join_existing = config_.initial_cluster_state == ClusterState::kExisting;
  no.on_removed = [this] { removed_.store(true); };
  // Every member can reach a member as soon as the change that brings its address applies.
  members_->set_on_change(
      [t = transport_.get(), self = config_.member_id](const std::vector<MemberRecord>& list) {
        for (const MemberRecord& m : list) {
          if (m.id == self || m.peer_urls.empty()) continue;
          (void)t->AddPeer(raft::NodeId(m.id), m.peer_urls.front());
        }
      });
  no.wal.writer.on_sync = metrics_->WalSyncObserver();
  auto node = node::Node::Open(no, kv_.get());
  if (!node.ok()) return node.status();
  node_ = std::move(node.value());
  return Status::Ok();
}

Status Server::Impl::StartPeers() {
  auto listen = HostPortOfUrl(config_.listen_peer_urls.front());
  SYNOD_ASSERT(listen.ok(), "urls are checked when the flags are parsed");
  Status s = transport_->Start(listen.value());
  if (!s.ok()) return s;
  for (const MemberRecord& m : members_->List()) {
    if (m.id == config_.member_id || m.peer_urls.empty()) continue;
    s = transport_->AddPeer(raft::NodeId(m.id), m.peer_urls.front());
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// SWIM membership (docs/membership.md) over UDP on the peer port number; every member of the
// initial cluster is a seed.
Status Server::Impl::StartGossip() {
  GossipAgentOptions o;
  o.self_id = config_.member_id;
  o.self_name = config_.name;
  o.listen = HostPortOfUrl(config_.listen_peer_urls.front()).value();
  o.config = ServerGossipConfig();
  for (const ClusterMember& m : config_.initial_cluster) {
    auto hp = HostPortOfUrl(m.peer_urls.front());
    if (!hp.ok()) return hp.status();
    o.peers.push_back(GossipPeer{m.id, hp.value(), m.name});
  }
  auto agent = GossipAgent::Start(o, &metrics_->registry());
  if (!agent.ok()) return agent.status();
  gossip_ = std::move(agent.value());
  metrics_->AddJsonRoute("/members", [g = gossip_.get()] { return g->MembersJson(); });
  return Status::Ok();
}

Status Server::Impl::StartClientApi() {
  ServingLimits limits;
  limits.request_bytes_max = config_.max_request_bytes;
  limits.txn_ops_max = config_.max_txn_ops;
  limits.backend_bytes_quota = config_.quota_backend_bytes;
  executor_ = std::make_unique<Executor>(kWorkerThreads, 2 * limits.inflight_requests_max);
  serving_ = std::make_unique<ServingContext>(node_.get(), kv_.get(), executor_.get(),
                                              config_.cluster_id, config_.member_id, limits);
  services_.push_back(NewKvService(serving_.get()));
  services_.push_back(NewMaintenanceService(serving_.get()));
  services_.push_back(NewLeaseService(serving_.get(), lessor_.get(), lease_ids_.get()));
  services_.push_back(NewClusterService(
      serving_.get(), members_.get(),
      ClusterServiceOptions{config_.initial_cluster_token, config_.advertise_client_urls}));
  services_.push_back(NewWatchService(serving_.get(), watch_hub_.get()));
  services_.push_back(NewLockService(serving_.get()));
  services_.push_back(NewElectionService(serving_.get()));
  watch_hub_->StartWorker();

  grpc::ServerBuilder builder;
  std::vector<int> ports(config_.listen_client_urls.size(), 0);
  for (size_t i = 0; i < config_.listen_client_urls.size(); ++i) {
    auto hp = HostPortOfUrl(config_.listen_client_urls[i]);
    SYNOD_ASSERT(hp.ok(), "urls are checked when the flags are parsed");
    builder.AddListeningPort(hp.value(), grpc::InsecureServerCredentials(), &ports[i]);
  }
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(config_.max_request_bytes + kGrpcHeadroomBytes));
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  for (auto& service : services_) builder.RegisterService(service.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> hooks;
  hooks.push_back(api::NewGrpcMetricsInterceptorFactory(&metrics_->registry()));
  builder.experimental().SetInterceptorCreators(std::move(hooks));
  grpc_ = builder.BuildAndStart();
  if (grpc_ == nullptr) {
    return Status(ErrorCode::kIoError, "cannot serve clients on the --listen-client-urls");
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    auto hp = HostPortOfUrl(config_.listen_client_urls[i]);
    if (ports[i] == 0) {
      return Status(ErrorCode::kIoError, "cannot listen on " + config_.listen_client_urls[i]);
    }
    const std::string host = hp.value().substr(0, hp.value().rfind(':'));
    client_addresses_.push_back(host + ":" + std::to_string(ports[i]));
    Log(LogLevel::kInfo, "server", "serving clients on " + client_addresses_.back());
  }
  return Status::Ok();
}

Status Server::Impl::StartMetrics() {
  metrics_->WatchNode(node_.get(), kv_.get());
  if (config_.listen_metrics_urls.empty()) return Status::Ok();
  std::vector<std::string> host_ports;
  for (const std::string& url : config_.listen_metrics_urls) {
    auto hp = HostPortOfUrl(url);
    SYNOD_ASSERT(hp.ok(), "urls are checked when the flags are parsed");
    host_ports.push_back(hp.value());
  }
  return metrics_->Serve(host_ports);
}

void Server::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  Log(LogLevel::kInfo, "server", "stopping");
  // The endpoints read the node and the store: they go first.
  if (metrics_) metrics_->StopServing();
  if (serving_) serving_->set_stopping();
  if (lease_ticker_) lease_ticker_->Stop();  // no new revokes; those pending fail with the node
  if (member_watcher_) member_watcher_->Stop();
  // Watch streams never end by themselves: end them now rather than at gRPC's deadline.
  if (watch_hub_) watch_hub_->Close();
  // The node first: it answers every request it holds (the executor sends those answers), so
  // nothing is left in flight when the client API closes. gRPC waits for idle clients to hang
  // up until the deadline; the short one only bounds how long answers already sent may take to
  // leave.
  if (node_) node_->Stop();
  if (executor_) executor_->Stop();
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  if (transport_) transport_->Stop();
  if (gossip_) gossip_->Stop();
  grpc_.reset();
  services_.clear();
  serving_.reset();
  executor_.reset();
  lease_ticker_.reset();
  node_.reset();
  member_watcher_.reset();  // after the node: its pending proposals' callbacks point at it
  transport_.reset();
  gossip_.reset();
  kv_.reset();
  watch_hub_.reset();
  members_.reset();
  lease_ids_.reset();
  lessor_.reset();
  Log(LogLevel::kInfo, "server", "stopped");
}

Result<std::unique_ptr<Server>> Server::Start(const ServerConfig& config) {
  // gRPC's mutexes are abseil's; a library built with abseil's debug checks would otherwise
  // keep a lock graph for deadlock detection, updated on every lock and mutex destruction
  // (measured at a few percent of the gRPC threads' CPU). Our own locks are std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto impl = std::make_unique<Impl>(config);
  Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }
void Server::Stop() { impl_->Stop(); }
const std::vector<std::string>& Server::client_addresses() const {
  return impl_->client_addresses();
}

}  // namespace synod::server
