#ifndef DEVENV_CCURL_SHIM_H
#define DEVENV_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt/getinfo are variadic and not callable from Swift: one typed shim per argument kind.
typedef size_t (*devenv_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*devenv_curl_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode devenv_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_data_cb(CURL *h, CURLoption o, devenv_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_setopt_xferinfo_cb(CURL *h, CURLoption o, devenv_curl_xferinfo_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode devenv_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode devenv_curl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(h, i, v); }


static inline const char *devenv_curl_version_string(void) {
    const curl_version_info_data *d = curl_version_info(CURLVERSION_NOW);
    return d ? d->version : "unknown";
}
#endif
