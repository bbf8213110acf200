// Member and cluster ids. Every member computes every id from the flags alone, so members of a
// new cluster agree on them without talking: a member's id comes from its name and the
// cluster token, the cluster's id from the token and its members' ids.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace synod::server {

// Never 0 (Raft's "no node").
uint64_t MemberIdFor(std::string_view name, std::string_view cluster_token);
// A member added at run time (Cluster.MemberAdd names no member, only its peer URLs): the
// cluster and the new member (--initial-cluster-state existing) derive the same id from the
// URLs. Independent of their order. Never 0.
uint64_t MemberIdForPeerUrls(std::span<const std::string> peer_urls,
                             std::string_view cluster_token);
// Independent of the order of `member_ids`.
uint64_t ClusterIdFor(std::string_view cluster_token, std::span<const uint64_t> member_ids);

}  // namespace synod::server
