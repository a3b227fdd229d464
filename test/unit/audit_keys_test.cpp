// SPDX-License-Identifier: BSL-1.0
// AuditKeys: Ed25519 key files (design note §4), and signatures checked by the real
// `openssl pkeyutl`, not by the library that made them.
#include "audit_test_support.hpp"

#include <openssl/pem.h>

#include <cstring>

#include <sys/stat.h>
#include <sys/wait.h>

namespace {

using namespace velt::audit;
using namespace velt::audit::test;
namespace fs = std::filesystem;

constexpr char const* openssl_program = "/usr/bin/openssl";

unsigned mode_of(fs::path const& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

error_kind kind_of_load(fs::path const& p) {
  try {
    (void)signing_key::load(p);
  } catch (error const& e) {
    return e.kind();
  }
  ADD_FAILURE() << "loaded " << p;
  return error_kind::io;
}

// Writes `pkey` as PEM (PKCS#8, encrypted with `password` when given), mode 0600.
void write_private(fs::path const& p, EVP_PKEY* pkey, char const* password = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, pkey, password ? EVP_aes_256_cbc() : nullptr,
                                          const_cast<char*>(password), password ? static_cast<int>(std::strlen(password)) : 0,
                                          nullptr, nullptr),
            1);
  char* data = nullptr;
  long const n = BIO_get_mem_data(bio, &data);
  write_all(p, std::string(data, static_cast<std::size_t>(n)));
  BIO_free(bio);
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

// Runs a shell command line; its exit status, and its output in `out`.
int run(std::string const& command, std::string* out = nullptr) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int const status = ::pclose(pipe);
  if (out != nullptr) *out = output;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AuditKeys, KeygenWritesPkcs8AndSpkiNoReplace) {
  temp_dir dir;
  auto const file = dir / "key.pem";
  auto const old_umask = ::umask(077);  // the .pub is 0644 whatever the umask
  auto const key = signing_key::generate();
  key.save(file);
  ::umask(old_umask);
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(dir / "key.pem.pub"), 0644u);
  std::string const priv = read_all(file);
  std::string const pub = read_all(dir / "key.pem.pub");
  EXPECT_EQ(priv.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << priv.substr(0, 40);
  EXPECT_EQ(pub.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(pub, key.public_key().pem());

  auto const loaded = signing_key::load(file);
  EXPECT_EQ(loaded.public_key().fingerprint(), key.public_key().fingerprint());
  EXPECT_EQ(public_key::load(dir / "key.pem.pub").fingerprint(), key.public_key().fingerprint());
  auto const sig = loaded.sign("message");
  EXPECT_EQ(sig, key.sign("message")) << "Ed25519 is deterministic";
  EXPECT_TRUE(key.public_key().verify("message", sig));
  EXPECT_FALSE(key.public_key().verify("messagE", sig));

  // Never replaces: neither when both exist nor when only the .pub does.
  auto const other = signing_key::generate();
  try {
    other.save(file);
    ADD_FAILURE() << "replaced a key";
  } catch (error const& e) {
    EXPECT_EQ(e.kind(), error_kind::exists);
  }
  EXPECT_EQ(read_all(file), priv);
  EXPECT_EQ(read_all(dir / "key.pem.pub"), pub);
  write_all(dir / "k2.pem.pub", "placeholder");
  EXPECT_THROW(other.save(dir / "k2.pem"), error);
  EXPECT_FALSE(fs::exists(dir / "k2.pem"));
  EXPECT_EQ(read_all(dir / "k2.pem.pub"), "placeholder");
  // Nothing else was left in the directory (no temporary files).
  std::size_t entries = 0;
  for (auto const& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 3u);
}

TEST(AuditKeys, LoadRefusesOpenOrEncryptedOrRsa) {
  temp_dir dir;
  auto const key = signing_key::generate();
  key.save(dir / "key.pem");
  fs::permissions(dir / "key.pem", fs::perms::group_read, fs::perm_options::add);
  EXPECT_EQ(kind_of_load(dir / "key.pem"), error_kind::key_too_open);
  fs::permissions(dir / "key.pem", fs::perms::group_read, fs::perm_options::remove);
  fs::permissions(dir / "key.pem", fs::perms::others_read, fs::perm_options::add);
  EXPECT_EQ(kind_of_load(dir / "key.pem"), error_kind::key_too_open);
  fs::permissions(dir / "key.pem", fs::perms::others_read, fs::perm_options::remove);
  EXPECT_NO_THROW((void)signing_key::load(dir / "key.pem"));

  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  write_private(dir / "encrypted.pem", ed, "passphrase");
  EVP_PKEY_free(ed);
  EXPECT_NE(read_all(dir / "encrypted.pem").find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(kind_of_load(dir / "encrypted.pem"), error_kind::key_encrypted);

  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  ASSERT_NE(rsa, nullptr);
  write_private(dir / "rsa.pem", rsa);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, rsa);
  char* data = nullptr;
  long const n = BIO_get_mem_data(bio, &data);
  std::string const rsa_pub(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(rsa);
  EXPECT_EQ(kind_of_load(dir / "rsa.pem"), error_kind::key_not_ed25519);
  try {
    (void)public_key::from_pem(rsa_pub);
    ADD_FAILURE() << "an RSA public key was accepted";
  } catch (error const& e) {
    EXPECT_EQ(e.kind(), error_kind::key_not_ed25519);
  }

  write_all(dir / "garbage.pem", "not a key\n");
  fs::permissions(dir / "garbage.pem", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(kind_of_load(dir / "garbage.pem"), error_kind::key_unreadable);
  EXPECT_EQ(kind_of_load(dir / "missing.pem"), error_kind::io);
  EXPECT_THROW((void)public_key::from_pem(read_all(dir / "key.pem")), error) << "a private key is not a public key";
}

TEST(AuditKeys, SignaturesCheckWithOpensslPkeyutl) {
  if (!fs::exists(openssl_program)) GTEST_SKIP() << openssl_program << " not found: install openssl (scripts/install-deps)";
  temp_dir dir;
  auto const key = signing_key::generate();
  key.save(dir / "F");
  std::string const message = "{\"v\":1,\"kind\":\"erasure-receipt\"}\n";
  write_all(dir / "M", message);
  auto const sig = key.sign(message);
  write_all(dir / "S", std::string(reinterpret_cast<char const*>(sig.data()), sig.size()));
  std::string const base = std::string(openssl_program) + " pkeyutl -verify -pubin -inkey '" + (dir / "F.pub").string() +
                           "' -rawin -sigfile '" + (dir / "S").string() + "' -in ";
  std::string out;
  EXPECT_EQ(run(base + "'" + (dir / "M").string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("Signature Verified Successfully"), std::string::npos) << out;
  write_all(dir / "M2", "{\"v\":1,\"kind\":\"erasure-receipt\"}\r");
  EXPECT_EQ(run(base + "'" + (dir / "M2").string() + "'", &out), 1) << out;

  // The fingerprint is what `openssl pkey -pubin -outform DER | sha256sum` prints.
  EXPECT_EQ(run(std::string(openssl_program) + " pkey -pubin -in '" + (dir / "F.pub").string() +
                    "' -outform DER | sha256sum",
                &out),
            0);
  EXPECT_EQ(out.substr(0, 64), key.public_key().fingerprint());

  // A key made by `openssl genpkey` loads, and the library's signature of a run_end
  // checks with §3's recipe (sed, tr, base64, openssl).
  ASSERT_EQ(run("umask 077 && " + std::string(openssl_program) + " genpkey -algorithm ed25519 -out '" +
                (dir / "ossl.pem").string() + "' && " + openssl_program + " pkey -in '" + (dir / "ossl.pem").string() +
                "' -pubout -out '" + (dir / "ossl.pem.pub").string() + "'",
                &out),
            0)
      << out;
  auto const ossl = signing_key::load(dir / "ossl.pem");
  auto const log = dir / "audit.jsonl";
  write_sample_run(log, &ossl);
  std::string const recipe =
      "cd '" + dir.path().string() + "' && export LC_ALL=C; n=30; "
      "sed -n \"${n}p\" audit.jsonl | sed -E 's/,\"sig\":\"[A-Za-z0-9+\\/=]{88}\",\"h\":\"[0-9a-f]{64}\"\\}$/}/' "
      "| tr -d '\\n' > end.msg && "
      "sed -n \"${n}p\" audit.jsonl | sed -E 's/.*,\"sig\":\"([A-Za-z0-9+\\/=]{88})\".*/\\1/' | base64 -d > end.sig && " +
      std::string(openssl_program) + " pkeyutl -verify -pubin -inkey ossl.pem.pub -rawin -in end.msg -sigfile end.sig";
  EXPECT_EQ(run(recipe, &out), 0) << out;
  EXPECT_NE(out.find("Signature Verified Successfully"), std::string::npos) << out;
  EXPECT_TRUE(verify_log(log, {public_key::load(dir / "ossl.pem.pub")}).good());
}

}  // namespace
