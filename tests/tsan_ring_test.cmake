# ringlet_tsan_ring_test(): a ring's two-thread stress test under
# ThreadSanitizer, plus a mutant of the ring's header whose one release store
# is weakened to relaxed, which TSan must catch (proof the test would see a
# wrong ordering, not just that it runs).
#
# Built with clang++ by a custom command rather than as a normal target:
#  * the host preset adds -fsanitize=address,undefined to every target, and
#    TSan cannot be linked together with ASan;
#  * GCC 12's TSan does not instrument inlined block copies (the 64-byte
#    slot of ringlet::SpscRing), so with g++ a missing release/acquire goes
#    unnoticed (checked: the mutant passes under g++, is caught under clang++).
#
#   ringlet_tsan_ring_test(NAME ctest-name TARGET target (binaries target_test, target_mutant) SOURCE test.cc HEADER ring.h (relative to
#     the source root) RELEASE "the release store, verbatim" MUTANT_FILTER gtest-filter)
find_program(RINGLET_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)

function(ringlet_tsan_ring_test)
  cmake_parse_arguments(T "" "NAME;TARGET;SOURCE;HEADER;RELEASE;MUTANT_FILTER" "" ${ARGN})
  if(NOT RINGLET_CLANGXX)
    message(STATUS "clang++ not found: ${T_NAME} (ThreadSanitizer) is skipped")
    return()
  endif()
  set(_ring ${CMAKE_SOURCE_DIR}/${T_HEADER})
  set(_deps ${T_SOURCE} ${_ring} ${CMAKE_SOURCE_DIR}/include/ringlet/result.h)
  set(_flags -std=c++20 -O1 -g -fsanitize=thread -Wall -Wextra -Werror -DRINGLET_TSAN_BUILD=1)
  set(_libs $<TARGET_FILE:GTest::gtest_main> $<TARGET_FILE:GTest::gtest> -pthread)
  set(_base ${T_TARGET})

  set(_good ${CMAKE_CURRENT_BINARY_DIR}/${_base}_test)
  add_custom_command(OUTPUT ${_good}
    COMMAND ${RINGLET_CLANGXX} ${_flags} -I${CMAKE_SOURCE_DIR} -I${CMAKE_SOURCE_DIR}/include ${T_SOURCE} -o ${_good} ${_libs}
    DEPENDS ${_deps} COMMENT "clang++ -fsanitize=thread ${_base}_test" VERBATIM)

  file(READ ${_ring} _text)
  string(FIND "${_text}" "${T_RELEASE}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "${T_HEADER} changed: update the TSan mutant of ${T_NAME}")
  endif()
  string(REPLACE "std::memory_order_release" "std::memory_order_relaxed" _weak "${T_RELEASE}")
  string(REPLACE "${T_RELEASE}" "${_weak}" _text "${_text}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/mutant/${T_HEADER} "${_text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_ring})
  set(_mutant ${CMAKE_CURRENT_BINARY_DIR}/${_base}_mutant)
  add_custom_command(OUTPUT ${_mutant}
    COMMAND ${RINGLET_CLANGXX} ${_flags} -I${CMAKE_CURRENT_BINARY_DIR}/mutant -I${CMAKE_CURRENT_BINARY_DIR}/mutant/include
            -I${CMAKE_SOURCE_DIR} -I${CMAKE_SOURCE_DIR}/include ${T_SOURCE} -o ${_mutant} ${_libs}
    DEPENDS ${_deps} COMMENT "clang++ -fsanitize=thread ${_base}_mutant" VERBATIM)

  add_custom_target(${_base} ALL DEPENDS ${_good} ${_mutant})
  add_test(NAME ${T_NAME} COMMAND ${_good})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT 300)
  add_test(NAME ${T_NAME}.MutantWithoutReleaseIsCaught COMMAND ${_mutant} --gtest_filter=${T_MUTANT_FILTER})
  set_tests_properties(${T_NAME}.MutantWithoutReleaseIsCaught PROPERTIES
    PASS_REGULAR_EXPRESSION "ThreadSanitizer: data race" TIMEOUT 300)
endfunction()
