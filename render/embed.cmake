# embed.cmake -- turn a text file into a C array: cmake -DIN= -DOUT= -DNAME= -P embed.cmake
# Bytes are written as hex so any content (quotes, backslashes, UTF-8) is safe.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " body "${body}")
get_filename_component(base ${IN} NAME)
file(WRITE ${OUT} "/* generated from ${base} by embed.cmake -- do not edit */\n"
  "#include <stddef.h>\n"
  "extern const char ${NAME}[];\nextern const size_t ${NAME}_len;\n"
  "const char ${NAME}[] = {\n    ${body}0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
