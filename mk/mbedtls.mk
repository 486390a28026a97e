# mbedtls.mk: mbedTLS 2.28 (Debian's source package, unpacked by scripts/deps.sh) built
# with the kernel's flags and the kernel's own configuration into one archive. Linked as
# an archive so that only the modules something references end up in the image.
MBEDTLS := $(TP)/mbedtls
MBEDTLS_CONFIG := kernel/crypto/mbedtls_config.h
# Every file of library/ in 2.28.3, written out rather than globbed, so that the pinned
# source package's contents, not whatever a tree happens to hold, decide what is compiled.
# The configuration decides what each object contains (most are empty).
MBEDTLS_SRC := \
	aes aesni arc4 aria asn1parse asn1write base64 bignum blowfish camellia ccm certs \
	chacha20 chachapoly cipher cipher_wrap cmac constant_time ctr_drbg debug des dhm \
	ecdh ecdsa ecjpake ecp ecp_curves entropy entropy_poll error gcm havege hkdf \
	hmac_drbg md md2 md4 md5 memory_buffer_alloc mps_reader mps_trace net_sockets \
	nist_kw oid padlock pem pk pk_wrap pkcs11 pkcs12 pkcs5 pkparse pkwrite platform \
	platform_util poly1305 psa_crypto psa_crypto_aead psa_crypto_cipher psa_crypto_client \
	psa_crypto_driver_wrappers psa_crypto_ecp psa_crypto_hash psa_crypto_mac psa_crypto_rsa \
	psa_crypto_se psa_crypto_slot_management psa_crypto_storage psa_its_file ripemd160 rsa \
	rsa_internal sha1 sha256 sha512 ssl_cache ssl_ciphersuites ssl_cli ssl_cookie ssl_msg \
	ssl_srv ssl_ticket ssl_tls ssl_tls13_keys threading timing version version_features \
	x509 x509_create x509_crl x509_crt x509_csr x509write_crt x509write_csr xtea
MBEDTLS_OBJ := $(patsubst %,$(B)/mbedtls/%.o,$(MBEDTLS_SRC))
MBEDTLS_LIB := $(B)/libmbedtls.a
# Shared by the library and by kernel code that includes mbedTLS headers (-isystem: the
# library's headers are not held to the kernel's -Werror warning set).
MBEDTLS_CPPFLAGS := -isystem $(MBEDTLS)/include -DMBEDTLS_CONFIG_FILE='"$(MBEDTLS_CONFIG)"'
MBEDTLS_CFLAGS := $(KERNEL_BASE_CFLAGS) -isystem kernel/include -I. $(MBEDTLS_CPPFLAGS) \
	-Wall -Wextra -Wno-unused-parameter -MMD -MP

KCFLAGS += $(MBEDTLS_CPPFLAGS)
# The platform glue (calloc/free, time, printf, exit) is kernel code proper.
KOBJ += $(patsubst %,$(B)/k/%.o,$(wildcard kernel/crypto/*.c))

$(B)/mbedtls/%.o: $(MBEDTLS)/library/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      mbedtls/$*.c"
	@$(CC) $(MBEDTLS_CFLAGS) -c $< -o $@

$(MBEDTLS_LIB): $(MBEDTLS_OBJ)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcsD $@ $^

clean: clean-mbedtls
clean-mbedtls:
	rm -rf $(B)/mbedtls $(MBEDTLS_LIB)
.PHONY: clean-mbedtls

-include $(MBEDTLS_OBJ:.o=.d)
