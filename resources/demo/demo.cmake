# The bundled demo that `eiview` (no arguments) and scripts/run-demo.sh open: the sample
# study (committed PNGs, made by make-sample-study.py) and a small random EI model made
# at build time by `eiview-cli init` (generated output, never committed), labelled as
# untrained. When the fine-tuning issue's trained demo exists (resources/demo-trained
# with demo.eimodel, its backbone file and study/), it is used instead.
set(EIVIEW_DEMO_DIR ${CMAKE_BINARY_DIR}/demo)
set(_demo_src ${PROJECT_SOURCE_DIR}/resources/demo)
set(_trained ${PROJECT_SOURCE_DIR}/resources/demo-trained)
find_package(Python3 COMPONENTS Interpreter)
# Re-configure when the trained demo appears or goes (the glob is re-checked at build time).
file(GLOB _trained_models CONFIGURE_DEPENDS ${_trained}/*.eimodel)

if(EXISTS ${_trained}/demo.eimodel AND IS_DIRECTORY ${_trained}/study)
  file(GLOB _study_files CONFIGURE_DEPENDS ${_trained}/study/*)
  # the model may reference its backbone by a path relative to itself: copy it alongside
  file(GLOB _backbones CONFIGURE_DEPENDS ${_trained}/*.safetensors)
  set(_copy_backbones "")
  if(_backbones)
    set(_copy_backbones COMMAND ${CMAKE_COMMAND} -E copy ${_backbones} ${EIVIEW_DEMO_DIR}/)
  endif()
  add_custom_command(OUTPUT ${EIVIEW_DEMO_DIR}/model.eimodel
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${EIVIEW_DEMO_DIR}/study
    COMMAND ${CMAKE_COMMAND} -E copy_directory ${_trained}/study ${EIVIEW_DEMO_DIR}/study
    # The same patient without the OCT: the demo of a study with a modality missing
    # (the viewer's Next study, Ctrl+Right, goes there from study/).
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${EIVIEW_DEMO_DIR}/study-without-oct
    COMMAND ${CMAKE_COMMAND} -E make_directory ${EIVIEW_DEMO_DIR}/study-without-oct
    COMMAND ${CMAKE_COMMAND} -E copy ${_trained}/study/cfp.png ${EIVIEW_DEMO_DIR}/study-without-oct/cfp.png
    ${_copy_backbones}
    COMMAND ${CMAKE_COMMAND} -E copy ${_trained}/demo.eimodel ${EIVIEW_DEMO_DIR}/model.eimodel
    DEPENDS ${_trained}/demo.eimodel ${_study_files} ${_backbones}
    COMMENT "Copying the trained demo model and study")
else()
  set(_label_cmd ${CMAKE_COMMAND} -E copy ${EIVIEW_DEMO_DIR}/model.unlabelled.eimodel ${EIVIEW_DEMO_DIR}/model.eimodel)
  if(Python3_Interpreter_FOUND)
    set(_label_cmd ${Python3_EXECUTABLE} ${_demo_src}/label-model.py ${EIVIEW_DEMO_DIR}/model.unlabelled.eimodel
        ${EIVIEW_DEMO_DIR}/model.eimodel "untrained random demo model, not for clinical use")
  endif()
  add_custom_command(OUTPUT ${EIVIEW_DEMO_DIR}/model.eimodel
    COMMAND ${CMAKE_COMMAND} -E make_directory ${EIVIEW_DEMO_DIR}/study
    COMMAND ${CMAKE_COMMAND} -E copy ${_demo_src}/study/CFP_sample.png ${_demo_src}/study/OCT_sample.png ${EIVIEW_DEMO_DIR}/study/
    COMMAND ${CMAKE_COMMAND} -E make_directory ${EIVIEW_DEMO_DIR}/study-without-oct
    COMMAND ${CMAKE_COMMAND} -E copy ${_demo_src}/study/CFP_sample.png ${EIVIEW_DEMO_DIR}/study-without-oct/
    COMMAND $<TARGET_FILE:eiview-cli> init --config ${_demo_src}/demo-config.json --seed 7 --random-adapters
            --out ${EIVIEW_DEMO_DIR}/model.unlabelled.eimodel
    COMMAND ${_label_cmd}
    COMMAND ${CMAKE_COMMAND} -E rm -f ${EIVIEW_DEMO_DIR}/model.unlabelled.eimodel
    DEPENDS eiview-cli ${_demo_src}/demo-config.json ${_demo_src}/label-model.py
            ${_demo_src}/study/CFP_sample.png ${_demo_src}/study/OCT_sample.png
    COMMENT "Making the untrained demo model (eiview-cli init)")
endif()
add_custom_target(eiview_demo ALL DEPENDS ${EIVIEW_DEMO_DIR}/model.eimodel)
install(DIRECTORY ${EIVIEW_DEMO_DIR}/ DESTINATION share/eiview/demo)
