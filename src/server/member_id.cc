#include "server/member_id.h"

#include <algorithm>
#include <string>
#include <vector>

namespace synod::server {
namespace {

// FNV-1a, 64-bit: fixed by its definition, so ids stay the same across builds and platforms
// (std::hash does not promise that).
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t Mix(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

uint64_t MixU64(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

// FNV's low bits mix poorly for short inputs; a final avalanche spreads every input bit.
uint64_t Finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t MemberIdFor(std::string_view name, std::string_view cluster_token) {
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  uint64_t h = Mix(kFnvOffset, name);
  h = Mix(h, std::string_view("\0", 1));
  h = Finish(Mix(h, cluster_token));
  return h == 0 ? 1 : h;
}

uint64_t MemberIdForPeerUrls(std::span<const std::string> peer_urls,
                             std::string_view cluster_token) {
  std::vector<std::string> sorted(peer_urls.begin(), peer_urls.end());
  std::sort(sorted.begin(), sorted.end());
  // The tag keeps these ids apart from MemberIdFor's for a name that looks like a URL.
  uint64_t h = Mix(kFnvOffset, std::string_view("peer-urls\0", 10));
  for (const std::string& url : sorted) h = Mix(Mix(h, url), std::string_view("\0", 1));
  h = Finish(Mix(h, cluster_token));
  return h == 0 ? 1 : h;
}

uint64_t ClusterIdFor(std::string_view cluster_token, std::span<const uint64_t> member_ids) {
  std::vector<uint64_t> sorted(member_ids.begin(), member_ids.end());
  std::sort(sorted.begin(), sorted.end());
  uint64_t h = Mix(kFnvOffset, cluster_token);
  for (uint64_t id : sorted) h = MixU64(h, id);
  h = Finish(h);
  return h == 0 ? 1 : h;
}

}  // namespace synod::server
