#include "netns.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "process.h"

namespace synod::cluster_test {
namespace {

constexpr std::chrono::seconds kCommandTimeout{10};

const char* Find(const char* const* candidates) {
  for (const char* const* c = candidates; *c != nullptr; ++c) {
    if (access(*c, X_OK) == 0) return *c;
  }
  return nullptr;
}

const char* IpPath() {
  static const char* const kPaths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", nullptr};
  return Find(kPaths);
}

const char* IptablesPath() {
  static const char* const kPaths[] = {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables",
                                       nullptr};
  return Find(kPaths);
}

bool Run(std::vector<std::string> argv, std::string* error) {
  const CommandResult r = RunCommand(argv, "", {}, kCommandTimeout);
  if (r.exit_code == 0) return true;
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
  *error = line + " exited " + std::to_string(r.exit_code) + ": " + r.err;
  return false;
}

bool Enter(std::string* why) {
  if (geteuid() != 0) {
    *why = "fault tests need root (network namespace and iptables); skipped";
    return false;
  }
  if (IpPath() == nullptr || IptablesPath() == nullptr) {
    *why = "fault tests need `ip` (iproute2) and `iptables` (scripts/setup installs them)";
    return false;
  }
  if (unshare(CLONE_NEWNET) != 0) {
    *why = std::string("no network namespace (unshare(CLONE_NEWNET): ") + std::strerror(errno) +
           "); fault tests skipped";
    return false;
  }
  std::string error;
  // A rule added and flushed: iptables (and the kernel's netfilter behind it) works here.
  if (!Run({IpPath(), "link", "set", "lo", "up"}, &error) ||
      !Run({IptablesPath(), "-w", "-A", "INPUT", "-s", "127.0.0.254", "-j", "DROP"}, &error) ||
      !Run({IptablesPath(), "-w", "-F", "INPUT"}, &error)) {
    *why = "network namespace unusable: " + error;
    return false;
  }
  return true;
}

}  // namespace

bool EnterPrivateNetwork(std::string* why) {
  static std::string first_why;
  static const bool entered = Enter(&first_why);
  *why = first_why;
  return entered;
}

bool Firewall::Drop(const std::string& from, const std::string& to, std::string* error) {
  return Run({IptablesPath(), "-w", "-A", "INPUT", "-s", from, "-d", to, "-j", "DROP"}, error);
}

bool Firewall::Partition(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string* error) {
  for (const std::string& x : a) {
    for (const std::string& y : b) {
      if (!Drop(x, y, error) || !Drop(y, x, error)) return false;
    }
  }
  return true;
}

bool Firewall::HealAll(std::string* error) {
  return Run({IptablesPath(), "-w", "-F", "INPUT"}, error);
}

std::string Firewall::Rules() {
  const char* iptables = IptablesPath();
  if (iptables == nullptr) return "(no iptables)";
  return RunCommand({iptables, "-w", "-S", "INPUT"}, "", {}, kCommandTimeout).out;
}

}  // namespace synod::cluster_test
