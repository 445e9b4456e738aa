# dsvk serve's text layer (tools/serve): request parsing, reply bodies, the
# <think> splitter and the stop matcher. No GPU and no model.
foreach(test test_serve_request test_serve_reply test_serve_text)
  dsvk_add_host_test(${test} ${CMAKE_CURRENT_LIST_DIR}/${test}.c)
  target_link_libraries(${test} PRIVATE dsvk_serve_text)
endforeach()
