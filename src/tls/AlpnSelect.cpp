#include "tls/AlpnSelect.h"

#include <cstring>

namespace portico::tls {

const unsigned char* select_alpn(std::string_view ours, const unsigned char* in,
                                 unsigned int in_size) {
  for (size_t i = 0; i < ours.size(); i += 1 + static_cast<unsigned char>(ours[i])) {
    const unsigned char size = static_cast<unsigned char>(ours[i]);
    for (unsigned int j = 0; j < in_size && j + 1 + in[j] <= in_size; j += 1 + in[j]) {
      if (in[j] == size && std::memcmp(in + j + 1, ours.data() + i + 1, size) == 0) return in + j;
    }
  }
  return nullptr;
}

}  // namespace portico::tls
