#include "api/grpc_metrics.h"

#include <grpcpp/support/server_interceptor.h>

#include <chrono>

namespace synod::api {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

struct GrpcFamilies {
  explicit GrpcFamilies(metrics::Registry* r)
      : started(r->AddCounter("grpc_server_started_total",
                              "Total number of RPCs started on the server.",
                              {"grpc_type", "grpc_service", "grpc_method"})),
        handled(r->AddCounter("grpc_server_handled_total",
                              "Total number of RPCs completed on the server, regardless of "
                              "success or failure.",
                              {"grpc_type", "grpc_service", "grpc_method", "grpc_code"})),
        seconds(r->AddHistogram("grpc_server_handling_seconds",
                                "Histogram of response latency (seconds) of gRPC that had been "
                                "application-level handled by the server.",
                                {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
                                {"grpc_type", "grpc_service", "grpc_method", "grpc_code"})) {}
  metrics::Family<metrics::Counter>& started;
  metrics::Family<metrics::Counter>& handled;
  metrics::Family<metrics::Histogram>& seconds;
};

// One per RPC: created when the call arrives, destroyed with its ServerContext.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcFamilies* families, ServerRpcInfo* info)
      : families_(families), start_(std::chrono::steady_clock::now()) {
    auto [service, method] = SplitGrpcMethod(info->method() != nullptr ? info->method() : "");
    labels_ = {TypeName(info->type()), std::move(service), std::move(method)};
    families_->started.With(labels_).Inc();
  }
  ~MetricsInterceptor() override {
    // A call that ends without a status (the client went away first) counts as canceled.
    if (!done_) Done(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!done_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Done(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Done(grpc::StatusCode code) {
    done_ = true;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    std::vector<std::string> labels = labels_;
    labels.push_back(GrpcCodeName(code));
    families_->handled.With(labels).Inc();
    families_->seconds.With(labels).Observe(elapsed.count());
  }

  GrpcFamilies* const families_;
  const std::chrono::steady_clock::time_point start_;
  std::vector<std::string> labels_;
  bool done_ = false;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(metrics::Registry* registry) : families_(registry) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new MetricsInterceptor(&families_, info);
  }

 private:
  GrpcFamilies families_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(metrics::Registry* registry) {
  return std::make_unique<MetricsInterceptorFactory>(registry);
}

std::pair<std::string, std::string> SplitGrpcMethod(const std::string& full_name) {
  const size_t slash = full_name.rfind('/');
  if (full_name.size() < 4 || full_name.front() != '/' || slash == 0 ||
      slash + 1 == full_name.size()) {
    return {"unknown", full_name};
  }
  return {full_name.substr(1, slash - 1), full_name.substr(slash + 1)};
}

const char* GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

}  // namespace synod::api
