// A private network for the fault tests: the test process moves into a network namespace of
// its own that has only a loopback device (so members on 127.0.0.1, 127.0.0.2, ... can talk
// only to each other and no test traffic can leave the machine), and links between member
// addresses are cut and healed with iptables inside it.
//
// Why an anonymous namespace (unshare) rather than `ip netns add NAME`: it is the same kind of
// namespace, but it ends with the test process, so a crashed or killed test leaves nothing
// behind, and every member (a child) and every iptables command starts inside it.
#pragma once

#include <string>
#include <vector>

namespace synod::cluster_test {

// Moves the calling process into a fresh network namespace with loopback up, once per process
// (later calls return the first result). Call before any other thread exists: unshare applies
// to the calling thread, and gRPC's threads must be created inside. False with *why set when
// this is not possible (not root, no unshare, no `ip` or `iptables`); tests then skip.
bool EnterPrivateNetwork(std::string* why);

// Firewall of the private network (iptables' INPUT chain; the default iptables backend works
// inside a namespace here, nft and legacy alike). Every call returns false with *error set
// when iptables fails.
class Firewall {
 public:
  // Drops every packet from `from` to `to` (addresses such as "127.0.0.2"): one direction.
  static bool Drop(const std::string& from, const std::string& to, std::string* error);
  // Both directions between every address of `a` and every address of `b`.
  static bool Partition(const std::vector<std::string>& a, const std::vector<std::string>& b,
                        std::string* error);
  // Removes every rule.
  static bool HealAll(std::string* error);
  // `iptables -S INPUT`, for failure messages.
  static std::string Rules();
};

}  // namespace synod::cluster_test
