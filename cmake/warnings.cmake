# Warning flags shared by every target we own (STYLE C12).
function(glr_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wimplicit-fallthrough)
  if(GLR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# glr_library(<name> <sources...>) declares one component library rooted at src/.
function(glr_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  glr_warnings(${name})
endfunction()
