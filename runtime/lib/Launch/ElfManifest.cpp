//===- ElfManifest.cpp - Read tp_manifest without loading the model -------===//

#include "Launch/ElfManifest.h"

#include "Launch/Json.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>
#include <vector>

namespace tp::launch {

namespace {

template <typename T>
bool readAt(const std::vector<char> &file, uint64_t offset, T &value) {
  if (offset > file.size() || file.size() - offset < sizeof(T))
    return false;
  std::memcpy(&value, file.data() + offset, sizeof(T));
  return true;
}

} // namespace

bool readElfString(const std::string &path, std::string &text,
                   std::string &error, const char *symbol) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return false;
  }
  std::vector<char> file((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  Elf64_Ehdr header;
  if (!readAt(file, 0, header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    error = "not an ELF file";
    return false;
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB) {
    error = "not a 64-bit little-endian ELF file";
    return false;
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0) {
    error = "the ELF file has no section headers";
    return false;
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i)
    if (!readAt(file, header.e_shoff + i * sizeof(Elf64_Shdr), sections[i])) {
      error = "truncated ELF section headers";
      return false;
    }
  for (const Elf64_Shdr &table : sections) {
    if (table.sh_type != SHT_DYNSYM || table.sh_entsize != sizeof(Elf64_Sym) ||
        table.sh_link >= sections.size())
      continue;
    const Elf64_Shdr &strings = sections[table.sh_link];
    for (uint64_t i = 0; i < table.sh_size / sizeof(Elf64_Sym); ++i) {
      Elf64_Sym sym;
      if (!readAt(file, table.sh_offset + i * sizeof(Elf64_Sym), sym))
        break;
      if (sym.st_name >= strings.sh_size || sym.st_shndx == SHN_UNDEF ||
          sym.st_shndx >= sections.size())
        continue;
      uint64_t nameOffset = strings.sh_offset + sym.st_name;
      if (nameOffset >= file.size())
        continue;
      const char *name = file.data() + nameOffset;
      size_t room = file.size() - nameOffset;
      if (strnlen(name, room) == room || std::strcmp(name, symbol) != 0)
        continue;
      const Elf64_Shdr &holder = sections[sym.st_shndx];
      if (holder.sh_type == SHT_NOBITS || sym.st_value < holder.sh_addr ||
          sym.st_value - holder.sh_addr >= holder.sh_size) {
        error = std::string("the bytes of ") + symbol +
                " are not stored in the file";
        return false;
      }
      uint64_t start = holder.sh_offset + (sym.st_value - holder.sh_addr);
      uint64_t limit = holder.sh_offset + holder.sh_size;
      if (limit > file.size() || start >= limit) {
        error = "truncated ELF file";
        return false;
      }
      const char *begin = file.data() + start;
      size_t length = strnlen(begin, size_t(limit - start));
      if (length == size_t(limit - start)) {
        error = std::string(symbol) + " is not NUL-terminated";
        return false;
      }
      text.assign(begin, length);
      return true;
    }
  }
  error = std::string("does not export ") + symbol;
  return false;
}

std::string manifestTarget(const std::string &manifest) {
  JsonValue root;
  std::string error;
  if (!parseJson(manifest, root, error))
    return "";
  const JsonValue *target = root.find("target");
  return target && target->kind == JsonValue::Kind::String ? target->string
                                                           : "";
}

} // namespace tp::launch
