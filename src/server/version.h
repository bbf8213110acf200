// The version synod reports to clients. etcd clients read the leading "major.minor.patch" to
// decide which calls the server has, so it names the etcd API level synod serves.
#pragma once

namespace synod::server {

inline constexpr const char kVersion[] = "3.4.0-synod";

}  // namespace synod::server
