//===- ElfManifest.cpp - Read tp_manifest without loading the model -------===//

#include "Launch/ElfManifest.h"

#include "Launch/Json.h"
#include "Launch/MappedFile.h"

#include <cstring>
#include <elf.h>
#include <vector>

namespace tp::launch {

namespace {

struct FileView {
  const unsigned char *data;
  size_t size;
};

template <typename T>
bool readAt(const FileView &file, uint64_t offset, T &value) {
  if (offset > file.size || file.size - offset < sizeof(T))
    return false;
  std::memcpy(&value, file.data + offset, sizeof(T));
  return true;
}

/// Whether [offset, offset + bytes) lies inside the file.
bool inFile(const FileView &file, uint64_t offset, uint64_t bytes) {
  return offset <= file.size && bytes <= file.size - offset;
}

/// Checks the ELF header, and that every loadable segment and every section
/// with contents lies inside the file.
bool checkStructure(const FileView &file, Elf64_Ehdr &header,
                    std::vector<Elf64_Shdr> &sections, std::string &error) {
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
  if (header.e_type != ET_DYN) {
    error = "not a shared object (link the model with -shared)";
    return false;
  }
  auto truncated = [&](uint64_t needed) {
    error = "truncated ELF file: it has " + std::to_string(file.size) +
            " bytes but its headers describe at least " +
            std::to_string(needed) + " (was it copied completely?)";
    return false;
  };
  if (header.e_phnum > 0) {
    if (header.e_phentsize != sizeof(Elf64_Phdr)) {
      error = "malformed ELF program headers";
      return false;
    }
    for (uint64_t i = 0; i < header.e_phnum; ++i) {
      Elf64_Phdr segment;
      uint64_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
      if (header.e_phoff > file.size || !readAt(file, at, segment))
        return truncated(header.e_phoff + header.e_phnum * sizeof(Elf64_Phdr));
      if (segment.p_type == PT_LOAD &&
          !inFile(file, segment.p_offset, segment.p_filesz))
        return truncated(segment.p_offset + segment.p_filesz);
    }
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0) {
    error = "the ELF file has no section headers";
    return false;
  }
  if (!inFile(file, header.e_shoff,
              uint64_t(header.e_shnum) * sizeof(Elf64_Shdr)))
    return truncated(header.e_shoff +
                     uint64_t(header.e_shnum) * sizeof(Elf64_Shdr));
  sections.resize(header.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i) {
    readAt(file, header.e_shoff + i * sizeof(Elf64_Shdr), sections[i]);
    const Elf64_Shdr &section = sections[i];
    if (section.sh_type != SHT_NOBITS && section.sh_type != SHT_NULL &&
        !inFile(file, section.sh_offset, section.sh_size))
      return truncated(section.sh_offset + section.sh_size);
  }
  return true;
}

} // namespace

bool readElfStringFromMemory(const unsigned char *data, size_t size,
                             std::string &text, std::string &error,
                             const char *symbol) {
  FileView file{data, size};
  Elf64_Ehdr header;
  std::vector<Elf64_Shdr> sections;
  if (!checkStructure(file, header, sections, error))
    return false;
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
      if (nameOffset >= file.size)
        continue;
      const char *name = reinterpret_cast<const char *>(file.data) + nameOffset;
      size_t room = file.size - nameOffset;
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
      if (limit > file.size || start >= limit) {
        error = "truncated ELF file";
        return false;
      }
      const char *begin = reinterpret_cast<const char *>(file.data) + start;
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

bool readElfString(const std::string &path, std::string &text,
                   std::string &error, const char *symbol) {
  MappedFile file;
  if (!file.openRegular(path, "a shared object", error))
    return false;
  return readElfStringFromMemory(file.data(), file.size(), text, error, symbol);
}

bool checkSharedObject(const std::string &path, std::string &error) {
  MappedFile file;
  if (!file.openRegular(path, "a shared object", error))
    return false;
  Elf64_Ehdr header;
  std::vector<Elf64_Shdr> sections;
  return checkStructure({file.data(), file.size()}, header, sections, error);
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
