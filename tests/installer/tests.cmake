# Packaging test (issue 6): packs the already built tree into a .deb and a .tar.gz,
# unpacks the .deb into a fresh root and runs what a user would run from it. It builds
# nothing: cpack packs the binaries the build made.
add_test(NAME installer_package
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/installer/package-test.sh ${CMAKE_BINARY_DIR} ${PROJECT_VERSION})
set_tests_properties(installer_package PROPERTIES LABELS installer TIMEOUT 900
                     ENVIRONMENT "${EIVIEW_TEST_ENV}")

# docs/cli.md against the built eiview-cli: a section per command, the help texts quoted
# verbatim, every option explained (docs/update-cli-doc.py refreshes the quotes).
add_test(NAME cli_doc
         COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/docs/update-cli-doc.py --check $<TARGET_FILE:eiview-cli>)
set_tests_properties(cli_doc PROPERTIES LABELS "installer;cli" TIMEOUT 300)
