// Parsers and the writer of the synod format: well-formed input, malformed input (errors name
// the file and line), format detection and the synod format's round trip.
#include "lincheck/parse.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace synod::lincheck {
namespace {

using testing::Cas;
using testing::OnKey;
using testing::Read;
using testing::WithOutcome;
using testing::Write;

// Asserts that parsing fails with kInvalidArgument and a message starting with `where`.
void ExpectError(const Result<History>& r, const std::string& where, const std::string& what) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind(where, 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
}

// --- Jepsen ---------------------------------------------------------------------------------

constexpr std::string_view kJepsenLog =
    "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 1\t:invoke\t:write\t4\n"
    "INFO  jepsen.util - 0\t:ok\t:read\tnil\n"
    "INFO  jepsen.util - 2   :invoke   :cas   [4 1]\n"  // runs of spaces in some logs
    "INFO  jepsen.util - 1\t:ok\t:write\t4\n"
    "INFO  jepsen.util - 2\t:fail\t:cas\t[4 1]\n"
    "INFO  jepsen.util - 3\t:invoke\t:write\t2\n"
    "INFO  jepsen.util - 3\t:info\t:write\t:timed-out\n"
    "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
    "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n"
    "INFO  jepsen.util - 8\t:invoke\t:cas\t[2 3]\n";

TEST(ParseJepsenTest, ReadsEveryKindAndOutcome) {
  Result<History> r = ParseJepsen(kJepsenLog, "log");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const History& h = r.value();
  EXPECT_FALSE(h.initial.has_value());
  ASSERT_EQ(h.ops.size(), 6u);
  // read nil, lines 1-3
  EXPECT_EQ(h.ops[0].kind, OpKind::kRead);
  EXPECT_EQ(h.ops[0].outcome, Outcome::kOk);
  EXPECT_FALSE(h.ops[0].output.has_value());
  EXPECT_EQ(h.ops[0].call, 1);
  EXPECT_EQ(h.ops[0].ret, 3);
  EXPECT_EQ(h.ops[0].key, "r");
  // write 4
  EXPECT_EQ(h.ops[1].kind, OpKind::kWrite);
  EXPECT_EQ(h.ops[1].value, "4");
  EXPECT_EQ(h.ops[1].client, 1u);
  // failed cas: the comparison failed
  EXPECT_EQ(h.ops[2].kind, OpKind::kCas);
  EXPECT_EQ(h.ops[2].expected, "4");
  EXPECT_EQ(h.ops[2].value, "1");
  EXPECT_EQ(h.ops[2].outcome, Outcome::kFail);
  // timed-out write: unknown, never returns
  EXPECT_EQ(h.ops[3].outcome, Outcome::kUnknown);
  EXPECT_EQ(h.ops[3].ret, kNeverReturned);
  // timed-out read: failed, no output
  EXPECT_EQ(h.ops[4].outcome, Outcome::kFail);
  EXPECT_FALSE(h.ops[4].output.has_value());
  // open at the end of the log: unknown
  EXPECT_EQ(h.ops[5].outcome, Outcome::kUnknown);
  EXPECT_EQ(h.ops[5].ret, kNeverReturned);
}

TEST(ParseJepsenTest, MalformedLinesNameFileAndLine) {
  const std::string ok = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n";
  ExpectError(ParseJepsen(ok + "INFO  jepsen.util - 1\t:ok\t:read\t3\n", "f.log"),
              "f.log:2:", "nothing open");
  ExpectError(ParseJepsen(ok + ok, "f.log"), "f.log:2:", "operation open");
  ExpectError(ParseJepsen("INFO  jepsen.util - 0\t:begin\t:read\tnil\n", "f.log"),
              "f.log:1:", "unknown type");
  ExpectError(ParseJepsen("INFO  jepsen.util - 0\t:invoke\t:cas\t[1\n", "f.log"), "f.log:1:", "");
  ExpectError(ParseJepsen("INFO  jepsen.util - 0\t:invoke\t:delete\t1\n", "f.log"),
              "f.log:1:", "unknown function");
  ExpectError(ParseJepsen("INFO  jepsen.util - x\t:invoke\t:read\tnil\n", "f.log"),
              "f.log:1:", "not a number");
  ExpectError(ParseJepsen(ok + "some other line\n", "f.log"), "f.log:2:", "jepsen.util");
  ExpectError(ParseJepsen(ok + "INFO  jepsen.util - 0\t:ok\t:write\t3\n", "f.log"),
              "f.log:2:", "different function");
}

// --- Porcupine kv ---------------------------------------------------------------------------

TEST(ParsePorcupineKvTest, ReadsGetPutAppend) {
  const std::string text =
      "{:process 0, :type :invoke, :f :put, :key \"1\", :value \"x 0 0 y\"}\n"
      "{:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n"
      "{:process 0, :type :ok, :f :put, :key \"1\", :value \"x 0 0 y\"}\n"
      "{:process 1, :type :ok, :f :get, :key \"1\", :value \"\"}\n"
      "{:process 2, :type :invoke, :f :append, :key \"2\", :value \"a\\\"b\"}\n";
  Result<History> r = ParsePorcupineKv(text, "kv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const History& h = r.value();
  EXPECT_EQ(h.initial, std::string());
  ASSERT_EQ(h.ops.size(), 3u);
  EXPECT_EQ(h.ops[0].kind, OpKind::kWrite);
  EXPECT_EQ(h.ops[0].value, "x 0 0 y");
  EXPECT_EQ(h.ops[0].call, 1);
  EXPECT_EQ(h.ops[0].ret, 3);
  EXPECT_EQ(h.ops[1].kind, OpKind::kRead);
  EXPECT_EQ(h.ops[1].output, std::string()) << "an empty string, not absent";
  EXPECT_EQ(h.ops[2].kind, OpKind::kAppend);
  EXPECT_EQ(h.ops[2].key, "2");
  EXPECT_EQ(h.ops[2].value, "a\"b");
  EXPECT_EQ(h.ops[2].outcome, Outcome::kUnknown);
}

TEST(ParsePorcupineKvTest, MalformedLinesNameFileAndLine) {
  const std::string get = "{:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n";
  ExpectError(ParsePorcupineKv(get + "{:process 1, :type :ok}\n", "kv"), "kv:2:", "missing");
  ExpectError(
      ParsePorcupineKv("{:process 1, :type :invoke, :f :get, :key \"1, :value nil}\n", "kv"),
      "kv:1:", "");
  ExpectError(ParsePorcupineKv(get + get, "kv"), "kv:2:", "operation open");
  ExpectError(
      ParsePorcupineKv("{:process 1, :type :invoke, :f :get, :key \"1\", :value nil} x\n", "kv"),
      "kv:1:", "after the closing");
  ExpectError(
      ParsePorcupineKv("{:process 1, :type :invoke, :f :cas, :key \"1\", :value nil}\n", "kv"),
      "kv:1:", "unknown :f");
  ExpectError(ParsePorcupineKv("(:process 1)\n", "kv"), "kv:1:", "expected '{'");
}

// --- synod ----------------------------------------------------------------------------------

constexpr std::string_view kSynodText =
    "# synod-history v1\n"
    "# call\tret\tclient\tkey\top\targs\toutcome\toutput\n"
    "initial\tnil\n"
    "100\t250\t1\t\"k1\"\twrite\t\"5\"\tok\t-\n"
    "120\t300\t2\t\"k1\"\tread\t-\tok\t\"5\"\n"
    "130\t-\t3\t\"k1\"\tcas\tnil \"6\"\tunknown\t-\n"
    "140\t150\t4\t\"k\\t2\"\tread\t-\tok\tnil\n"
    "160\t170\t4\t\"k\\t2\"\tread\t-\tok\t\"\"\n"
    "180\t190\t5\t\"k1\"\tappend\t\"\\x01\\n\"\tfail\t-\n";

TEST(ParseSynodTest, ReadsTheDocumentedExample) {
  Result<History> r = ParseSynod(kSynodText, "h");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const History& h = r.value();
  EXPECT_FALSE(h.initial.has_value());
  ASSERT_EQ(h.ops.size(), 6u);
  EXPECT_EQ(h.ops[0].call, 100);
  EXPECT_EQ(h.ops[0].ret, 250);
  EXPECT_EQ(h.ops[0].client, 1u);
  EXPECT_EQ(h.ops[0].key, "k1");
  EXPECT_EQ(h.ops[0].value, "5");
  EXPECT_EQ(h.ops[1].output, "5");
  EXPECT_EQ(h.ops[2].ret, kNeverReturned);
  EXPECT_FALSE(h.ops[2].expected.has_value());
  EXPECT_EQ(h.ops[2].value, "6");
  EXPECT_EQ(h.ops[2].outcome, Outcome::kUnknown);
  EXPECT_EQ(h.ops[3].key, "k\t2");
  EXPECT_FALSE(h.ops[3].output.has_value()) << "nil is absent";
  EXPECT_EQ(h.ops[4].output, std::string()) << "\"\" is the empty string";
  EXPECT_EQ(h.ops[5].value, std::string("\x01\n"));
  EXPECT_EQ(h.ops[5].outcome, Outcome::kFail);
}

TEST(ParseSynodTest, FormatThenParseGivesTheSameHistory) {
  History h;
  h.initial = std::string();
  h.ops = {Write("plain", 0, 10),
           OnKey(Write("tab\there \"quoted\" back\\slash\nnewline \x7f\x01 \xc3\xa9", 5, 15),
                 "key with spaces"),
           Read(std::nullopt, 20, 30),
           Read(std::string(), 21, 31),
           Cas(std::nullopt, "", Outcome::kFail, -5, 40),
           WithOutcome(Write("late", 50, 60), Outcome::kUnknown),
           Cas("a", "b", Outcome::kUnknown, 70, kNeverReturned),
           WithOutcome(Read(std::nullopt, 80, 90), Outcome::kFail)};
  h.ops[1].client = 7;
  h.ops.push_back(testing::Append("x", 100, 110));
  const std::string text = FormatHistory(h);
  Result<History> back = ParseSynod(text, "roundtrip");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  const History& g = back.value();
  EXPECT_EQ(g.initial, h.initial);
  ASSERT_EQ(g.ops.size(), h.ops.size());
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const Operation& a = h.ops[i];
    const Operation& b = g.ops[i];
    EXPECT_EQ(a.client, b.client) << i;
    EXPECT_EQ(a.key, b.key) << i;
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.value, b.value) << i;
    EXPECT_EQ(a.expected, b.expected) << i;
    EXPECT_EQ(a.output, b.output) << i;
    EXPECT_EQ(a.outcome, b.outcome) << i;
    EXPECT_EQ(a.call, b.call) << i;
    EXPECT_EQ(a.ret, b.ret) << i;
  }
  // One operation per line: quoting keeps tabs and newlines out of the fields.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(3 + h.ops.size()));
  EXPECT_EQ(FormatHistory(g), text);
}

TEST(ParseSynodTest, WritesTheCanonicalFormItReads) {
  Result<History> r = ParseSynod(kSynodText, "h");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatHistory(r.value()), kSynodText);
}

TEST(ParseSynodTest, MalformedLinesNameFileAndLine) {
  const std::string head = "# synod-history v1\n";
  ExpectError(ParseSynod("1\t2\t0\t\"k\"\tread\t-\tok\tnil\n", "h"), "h:1:", "header");
  ExpectError(ParseSynod("# synod-history v2\n", "h"), "h:1:", "version");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\tread\t-\tok\n", "h"), "h:2:", "8 tab-separated");
  ExpectError(ParseSynod(head + "1\t2\t0\tk\tread\t-\tok\tnil\n", "h"), "h:2:", "key");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\tread\t-\tok\t5\n", "h"), "h:2:", "output");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\twrite\t\"5\"\tok\t\"5\"\n", "h"),
              "h:2:", "only a successful read");
  ExpectError(ParseSynod(head + "1\t-\t0\t\"k\"\twrite\t\"5\"\tok\t-\n", "h"),
              "h:2:", "unknown outcome may lack");
  ExpectError(ParseSynod(head + "9\t2\t0\t\"k\"\twrite\t\"5\"\tok\t-\n", "h"),
              "h:2:", "returns before");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\tcas\t\"5\"\tok\t-\n", "h"), "h:2:", "cas");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\tput\t\"5\"\tok\t-\n", "h"), "h:2:", "unknown op");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\twrite\t\"5\\q\"\tok\t-\n", "h"), "h:2:", "escape");
  ExpectError(ParseSynod(head + "1\t2\t0\t\"k\"\twrite\t\"5\"\tmaybe\t-\n", "h"),
              "h:2:", "unknown outcome");
  ExpectError(ParseSynod(head + "initial\tnil\ninitial\tnil\n", "h"), "h:3:", "second");
  ExpectError(ParseSynod("", "h"), "h:", "missing header");
}

// --- detection and files --------------------------------------------------------------------

TEST(ParseTest, DetectsEachFormat) {
  EXPECT_EQ(DetectFormat(kJepsenLog, "x").value(), Format::kJepsen);
  EXPECT_EQ(DetectFormat("\n{:process 0}\n", "x").value(), Format::kPorcupineKv);
  EXPECT_EQ(DetectFormat(kSynodText, "x").value(), Format::kSynod);
  EXPECT_FALSE(DetectFormat("hello\n", "x").ok());
  EXPECT_FALSE(DetectFormat("", "x").ok());
  Result<History> h = ParseHistory(kSynodText, Format::kAuto, "x");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().ops.size(), 6u);
}

TEST(ParseTest, FormatNames) {
  for (Format f : {Format::kAuto, Format::kJepsen, Format::kPorcupineKv, Format::kSynod}) {
    EXPECT_EQ(ParseFormatName(FormatName(f)).value(), f);
  }
  EXPECT_FALSE(ParseFormatName("edn").ok());
}

TEST(ParseTest, MissingFileIsAnIoError) {
  Result<History> r = ParseFile("/nonexistent/history.txt", Format::kAuto);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace synod::lincheck
