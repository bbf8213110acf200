#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace synod::cluster_test {
namespace {

using Clock = std::chrono::steady_clock;

bool IsProxy(const char* entry) {
  std::string name(entry, std::strcspn(entry, "="));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.ends_with("_proxy");
}

// The child's environment: ours without proxies and ETCDCTL_* (no stray endpoint or
// credentials), plus `extra`.
std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (IsProxy(*e) || std::strncmp(*e, "ETCDCTL_", 8) == 0) continue;
    env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs; in the child, fds[0..2] become stdin, stdout, stderr. Only async-signal-
// safe calls run between fork and exec.
pid_t ForkExec(std::vector<std::string> argv, std::vector<std::string> env, const int fds[3]) {
  std::vector<char*> args = Pointers(argv);
  std::vector<char*> envp = Pointers(env);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  for (int i = 0; i < 3; ++i) {
    if (fds[i] != i) dup2(fds[i], i);
  }
  // A fresh process group: a Ctrl-C in the terminal running the tests reaches the test, which
  // then kills its children, rather than every child at once.
  setpgid(0, 0);
  execve(args[0], args.data(), envp.data());
  _exit(127);
}

}  // namespace

Child::~Child() {
  if (pid_ > 0) (void)Stop(SIGKILL, std::chrono::seconds(5));
}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) (void)Stop(SIGKILL, std::chrono::seconds(5));
    pid_ = o.pid_;
    o.pid_ = -1;
  }
  return *this;
}

bool Child::Spawn(const std::vector<std::string>& argv, const std::string& log_path, Child* child,
                  std::string* error, const std::vector<std::string>& env) {
  if (access(argv[0].c_str(), X_OK) != 0) {
    *error = "not executable: " + argv[0];
    return false;
  }
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0) {
    *error = "cannot open " + log_path + ": " + std::strerror(errno);
    if (log >= 0) close(log);
    if (null >= 0) close(null);
    return false;
  }
  const int fds[3] = {null, log, log};
  const pid_t pid = ForkExec(argv, Environment(env), fds);
  close(log);
  close(null);
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  *child = Child();
  child->pid_ = pid;
  return true;
}

int Child::Stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    usleep(10'000);
  }
  pid_ = -1;
  return status;
}

bool Child::Signal(int signal) const {
  return pid_ > 0 && kill(pid_, signal) == 0;
}

bool Child::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         const std::vector<std::string>& env, std::chrono::milliseconds timeout) {
  CommandResult result;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return result;
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return result;
  const int fds[3] = {in[0], out[1], err[1]};
  const pid_t pid = ForkExec(argv, Environment(env), fds);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    for (int fd : {in[1], out[0], err[0]}) close(fd);
    return result;
  }
  // The inputs here are a few lines: they fit in the pipe's buffer, so writing first is safe.
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  close(in[1]);

  const auto deadline = Clock::now() + timeout;
  pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    const int n = poll(p, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      char buf[4096];
      const ssize_t got = read(p[i].fd, buf, sizeof(buf));
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else {
        close(p[i].fd);
        p[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& q : p) {
    if (q.fd >= 0) close(q.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace synod::cluster_test
