// SPDX-License-Identifier: BSL-1.0
// Ed25519 keys with OpenSSL 3 (design note §4): generation, PEM files, signing, checking.
#include "audit/key.hpp"

#include "audit/crypto.hpp"
#include "audit/file_io.hpp"

#include <velt/audit.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace velt::audit {

namespace {

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using unique_bio = std::unique_ptr<BIO, bio_free>;

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

std::string fingerprint_of(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int const n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) throw error(error_kind::key_unreadable, "cannot encode the public key (OpenSSL)");
  std::string const bytes(reinterpret_cast<char const*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return detail::sha256_hex(bytes);
}

std::shared_ptr<detail::key const> make_key(EVP_PKEY* raw, bool has_private, std::string const& shown) {
  std::unique_ptr<EVP_PKEY, detail::pkey_free> pkey(raw);
  if (EVP_PKEY_is_a(pkey.get(), "ED25519") != 1) {
    throw error(error_kind::key_not_ed25519, shown + ": not an Ed25519 key (" +
                                                 std::string(EVP_PKEY_get0_type_name(pkey.get()) != nullptr
                                                                 ? EVP_PKEY_get0_type_name(pkey.get())
                                                                 : "unknown type") +
                                                 ")");
  }
  auto k = std::make_shared<detail::key>();
  k->fingerprint = fingerprint_of(pkey.get());
  k->pkey = std::move(pkey);
  k->has_private = has_private;
  return k;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long const n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n > 0 ? n : 0));
}

std::string public_pem(EVP_PKEY* pkey) {
  unique_bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    throw error(error_kind::io, "cannot write the public key as PEM (OpenSSL)");
  }
  return bio_text(bio.get());
}

// The password callback: asked means the key is encrypted, which is refused.
int refuse_password(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

}  // namespace

public_key public_key::from_pem(std::string_view pem) {
  unique_bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  ERR_clear_error();
  if (raw == nullptr) throw error(error_kind::key_unreadable, "not a PEM public key (BEGIN PUBLIC KEY)");
  return public_key(make_key(raw, false, "public key"));
}

public_key public_key::load(std::filesystem::path const& pem_file) {
  std::string const text = detail::read_file(pem_file);
  try {
    return from_pem(text);
  } catch (error const& e) {
    throw error(e.kind(), pem_file.string() + ": " + e.what());
  }
}

std::string const& public_key::fingerprint() const noexcept { return key_->fingerprint; }

std::string public_key::pem() const { return public_pem(key_->pkey.get()); }

bool public_key::verify(std::string_view message, std::span<std::byte const> signature) const {
  if (signature.size() != 64) return false;
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_->pkey.get(), nullptr) != 1) {
    ERR_clear_error();
    throw error(error_kind::io, "cannot start an Ed25519 verification (OpenSSL)");
  }
  int const rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<unsigned char const*>(signature.data()), signature.size(),
                                  reinterpret_cast<unsigned char const*>(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

signing_key::~signing_key() = default;

signing_key signing_key::generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) throw error(error_kind::io, "cannot generate an Ed25519 key (OpenSSL)");
  return signing_key(make_key(raw, true, "new key"));
}

signing_key signing_key::load(std::filesystem::path const& pem_file) {
  detail::unique_fd fd(::open(pem_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) detail::throw_io("cannot open", pem_file, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) detail::throw_io("cannot stat", pem_file, errno);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw error(error_kind::key_too_open, pem_file.string() + ": mode " + mode +
                                              " lets group or others read the private key; chmod 600 it");
  }
  std::string text = detail::pread_exact(fd.get(), 0, static_cast<std::size_t>(st.st_size), pem_file);
  bool asked = false;
  EVP_PKEY* raw = nullptr;
  {
    unique_bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (bio) raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_password, &asked);
  }
  OPENSSL_cleanse(text.data(), text.size());
  ERR_clear_error();
  if (asked) {
    EVP_PKEY_free(raw);
    throw error(error_kind::key_encrypted, pem_file.string() + ": encrypted keys are not supported");
  }
  if (raw == nullptr) throw error(error_kind::key_unreadable, pem_file.string() + ": not a PEM private key");
  return signing_key(make_key(raw, true, pem_file.string()));
}

void signing_key::save(std::filesystem::path const& file) const {
  auto const pub_file = std::filesystem::path(file.string() + ".pub");
  for (auto const& f : {file, pub_file}) {
    struct stat st {};
    if (::lstat(f.c_str(), &st) == 0) throw error(error_kind::exists, f.string() + " exists; keys are never replaced");
  }
  {
    unique_bio bio(BIO_new(BIO_s_secmem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      ERR_clear_error();
      throw error(error_kind::io, "cannot write the private key as PEM (OpenSSL)");
    }
    char* data = nullptr;
    long const n = BIO_get_mem_data(bio.get(), &data);
    // Published straight from the secure-heap buffer, which BIO_free cleanses.
    detail::publish_file(file, std::string_view(data, static_cast<std::size_t>(n > 0 ? n : 0)), 0600, false);
  }
  detail::publish_file(pub_file, public_pem(key_->pkey.get()), 0644, false);
  detail::fsync_directory(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
}

audit::public_key signing_key::public_key() const { return audit::public_key(key_); }

std::array<std::byte, 64> signing_key::sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  std::array<std::byte, 64> sig{};
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_->pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<unsigned char const*>(message.data()), message.size()) != 1 ||
      len != sig.size()) {
    ERR_clear_error();
    throw error(error_kind::io, "Ed25519 signing failed (OpenSSL)");
  }
  return sig;
}

}  // namespace velt::audit
