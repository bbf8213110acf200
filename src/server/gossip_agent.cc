#include "server/gossip_agent.h"

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "gossip/swim.h"
#include "metrics/registry.h"
#include "server/gossip_codec.h"
#include "server/log.h"

namespace synod::server {

using asio::ip::udp;

gossip::Config ServerGossipConfig() {
  gossip::Config c;
  c.probe_interval_ticks = 50;
  c.probe_timeout_ticks = 20;
  c.gossip_interval_ticks = 10;
  c.push_pull_interval_ticks = 3000;
  c.suspicion_min_mult_percent = 400;
  c.suspicion_max_mult = 3;
  return c;
}

namespace {

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

Result<udp::endpoint> Resolve(asio::io_context& io, const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return Status(ErrorCode::kInvalidArgument, "no port in " + host_port);
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  udp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(udp::v4(), host, host_port.substr(colon + 1), ec);
  if (ec || results.empty()) {
    return Status(ErrorCode::kInvalidArgument, "cannot resolve " + host_port + ": " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

class GossipAgent::Impl {
 public:
  Impl(const GossipAgentOptions& o, gossip::Config c)
      : options_(o), swim_(c), socket_(io_), timer_(io_) {}

  Status Open(metrics::Registry* registry);
  void Run() {
    thread_ = std::thread([this] { io_.run(); });
  }
  void Stop() {
    if (stopped_.exchange(true)) return;
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string MembersJson() const {
    std::lock_guard<std::mutex> lock(mu_);
    return json_;
  }

 private:
  void ScheduleTick();
  void Receive();
  void Flush();
  void Publish();

  GossipAgentOptions options_;
  gossip::Swim swim_;
  asio::io_context io_;
  udp::socket socket_;
  asio::steady_timer timer_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::map<uint64_t, udp::endpoint> endpoints_;
  std::map<uint64_t, std::string> names_;
  std::array<char, kGossipDatagramBytesMax + 1> buffer_{};
  udp::endpoint sender_;

  mutable std::mutex mu_;
  std::string json_;  // guarded by mu_
  std::array<std::atomic<double>, 4> counts_{};
  std::atomic<double> health_{0};
  std::atomic<double> malformed_{0};
};

Status GossipAgent::Impl::Open(metrics::Registry* registry) {
  auto listen = Resolve(io_, options_.listen);
  if (!listen.ok()) return listen.status();
  asio::error_code ec;
  socket_.open(udp::v4(), ec);
  if (!ec) socket_.bind(listen.value(), ec);
  if (ec) {
    return Status(ErrorCode::kIoError,
                  "gossip: cannot bind udp " + options_.listen + ": " + ec.message());
  }
  std::vector<gossip::Update> known;
  std::vector<gossip::MemberId> seeds;
  for (const GossipPeer& p : options_.peers) {
    names_[p.id] = p.name;
    if (p.id == options_.self_id) continue;
    auto ep = Resolve(io_, p.host_port);
    if (!ep.ok()) return ep.status();
    endpoints_[p.id] = ep.value();
    auto meta = std::make_shared<gossip::MemberMeta>();
    meta->address = p.host_port;
    known.push_back(gossip::Update{gossip::MemberState::kAlive, gossip::MemberId(p.id),
                                   gossip::Incarnation(0), gossip::MemberId(p.id), meta});
    seeds.push_back(gossip::MemberId(p.id));
  }
  // The initial cluster is known to every member: start from it, and ask the seeds for their
  // state so a restarted member learns its own latest incarnation (and refutes its death).
  swim_.Bootstrap(known);
  swim_.Join(seeds);
  if (registry != nullptr) {
    for (int s = 0; s < 4; ++s) {
      const auto state = static_cast<gossip::MemberState>(s);
      registry->AddGaugeCallback(
          "synod_gossip_members", "Members this member's gossip layer knows, by state.",
          [this, s] { return counts_[s].load(); }, {{"state", gossip::MemberStateName(state)}});
    }
    registry->AddGaugeCallback("synod_gossip_health_score",
                               "Lifeguard local health score (0 is healthy).",
                               [this] { return health_.load(); });
    registry->AddCounterCallback("synod_gossip_malformed_datagrams_total",
                                 "Gossip datagrams that failed to decode.",
                                 [this] { return malformed_.load(); });
  }
  Publish();
  Flush();
  Receive();
  ScheduleTick();
  return Status::Ok();
}

void GossipAgent::Impl::ScheduleTick() {
  timer_.expires_after(std::chrono::milliseconds(options_.tick_ms));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    swim_.Tick();
    Flush();
    ScheduleTick();
  });
}

void GossipAgent::Impl::Receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_, [this](const asio::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          auto m = DecodeGossip(std::string_view(buffer_.data(), n));
          if (!m.ok()) {
            malformed_.store(malformed_.load() + 1);
          } else {
            // Learn where a member gossiping to us listens, for members not in the initial
            // cluster (joined later): its datagrams come from its gossip socket.
            const uint64_t from = m.value().from.value;
            if (from != 0 && !endpoints_.contains(from)) endpoints_[from] = sender_;
            (void)swim_.Step(m.value());  // messages for another member are dropped
            Flush();
          }
        }
        Receive();
      });
}

void GossipAgent::Impl::Flush() {
  for (const gossip::Message& m : swim_.TakeMessages()) {
    auto it = endpoints_.find(m.to.value);
    if (it == endpoints_.end()) continue;
    const std::string bytes = EncodeGossip(m);
    if (bytes.size() > kGossipDatagramBytesMax) continue;
    asio::error_code ec;
    socket_.send_to(asio::buffer(bytes), it->second, 0, ec);  // loss is tolerated
  }
  const auto events = swim_.TakeEvents();
  for (const gossip::MemberEvent& e : events) {
    const auto name = names_.find(e.member.value);
    Log(LogLevel::kInfo, "gossip",
        "member " + Hex(e.member.value) +
            (name != names_.end() ? " (" + name->second + ")" : std::string()) + " " +
            (e.joined ? std::string("joined as ")
                      : std::string(gossip::MemberStateName(e.from)) + " -> ") +
            gossip::MemberStateName(e.to) + ", incarnation " + std::to_string(e.incarnation.value));
  }
  health_.store(swim_.health_score());
  if (!events.empty()) Publish();
}

void GossipAgent::Impl::Publish() {
  std::array<double, 4> counts{};
  std::string json = "{\"self\":\"" + Hex(options_.self_id) + "\",\"members\":[";
  bool first = true;
  for (const gossip::Member& m : swim_.members().all()) {
    counts[static_cast<size_t>(m.state)] += 1;
    if (!first) json += ",";
    first = false;
    const auto name = names_.find(m.id.value);
    json += "{\"id\":\"" + Hex(m.id.value) +
            "\",\"name\":" + JsonString(name != names_.end() ? name->second : "") +
            ",\"address\":" + JsonString(m.meta ? m.meta->address : "") + ",\"state\":\"" +
            gossip::MemberStateName(m.state) +
            "\",\"incarnation\":" + std::to_string(m.incarnation.value) + "}";
  }
  json += "]}";
  for (size_t s = 0; s < counts.size(); ++s) counts_[s].store(counts[s]);
  std::lock_guard<std::mutex> lock(mu_);
  json_ = std::move(json);
}

Result<std::unique_ptr<GossipAgent>> GossipAgent::Start(const GossipAgentOptions& options,
                                                        metrics::Registry* registry) {
  gossip::Config c = options.config;
  c.id = gossip::MemberId(options.self_id);
  c.random_seed =
      options.self_id ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  auto meta = std::make_shared<gossip::MemberMeta>();
  meta->address = options.listen;
  meta->roles = {"raft"};
  c.meta = meta;
  auto impl = std::make_unique<Impl>(options, c);
  Status s = impl->Open(registry);
  if (!s.ok()) return s;
  impl->Run();
  return std::unique_ptr<GossipAgent>(new GossipAgent(std::move(impl)));
}

GossipAgent::GossipAgent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GossipAgent::~GossipAgent() {
  Stop();
}
void GossipAgent::Stop() {
  impl_->Stop();
}
std::string GossipAgent::MembersJson() const {
  return impl_->MembersJson();
}

}  // namespace synod::server
